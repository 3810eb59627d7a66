// The search session page: refinements over the websocket (no reload), a lightbox, exclusive judgement toggles.
// Without the socket (or with a file to upload) the refine form simply posts, and the server redirects back.
(function () {
  "use strict";
  const form = document.getElementById("refine");
  if (!form) return;
  const status = document.getElementById("live-status");
  const errorBox = document.getElementById("refine-error");
  const results = document.getElementById("results");
  const turnList = document.getElementById("turn-list");
  const parentInput = document.getElementById("refine-parent");
  const events = document.getElementById("events");
  const refineButton = document.getElementById("refine-button");
  const WEIGHTS = { alpha: "alpha", beta: "beta", gamma: "gamma", feedback_weight: "feedback", negative_weight: "negative" };
  const SEND_TIMEOUT_MS = 10000; // no answer to a sent turn this long: send it again (same key)
  const GIVE_UP_MS = 45000; // still no answer: tell the user, and offer to send it by reloading the page
  let socket = null;
  let attempt = 0;
  let reconnectTimer = null;
  const pending = new Map(); // key -> {message, firstSentAt, lastSentAt}: turns sent and not yet answered
  const seen = new Set(); // events already shown, so a re-read state does not show them twice

  // Each turn carries a key of its own: the server makes at most one turn per key, so resending is always safe.
  function newKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function setStatus(live, text) {
    status.textContent = text;
    status.classList.toggle("offline", !live);
    document.body.dataset.socket = live ? "open" : "closed";
  }

  function shownTurnId() {
    const shown = document.getElementById("turn-results");
    return shown && shown.dataset.turnId ? Number(shown.dataset.turnId) : undefined;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (socket) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(scheme + "://" + location.host + form.dataset.wsPath);
    socket = ws;
    ws.addEventListener("open", function () {
      attempt = 0;
      setStatus(true, "Live: results update in place");
      // Whatever happened while the page was disconnected (rewrites, captions, jobs, turns) comes back first;
      // then every turn still unanswered goes again under its own key.
      ws.send(JSON.stringify({ type: "sync", turn: shownTurnId() }));
      for (const entry of pending.values()) send(entry);
    });
    ws.addEventListener("close", function () {
      if (socket === ws) socket = null;
      setStatus(false, pending.size ? "Reconnecting… your refinement will be sent again" : "Reconnecting…");
      scheduleReconnect();
    });
    ws.addEventListener("message", function (event) {
      handle(JSON.parse(event.data));
    });
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    const delay = Math.min(15000, 500 * 2 ** attempt++);
    reconnectTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (socket || !navigator.onLine) return;
    attempt = 0;
    connect();
  }
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) reconnectNow();
  });

  function live() {
    return socket && socket.readyState === WebSocket.OPEN;
  }

  function send(entry) {
    entry.lastSentAt = Date.now();
    if (live()) socket.send(JSON.stringify(entry.message));
  }

  // Every few seconds: resend what was sent on an open socket and not answered; give up on what waited too long.
  setInterval(function () {
    const now = Date.now();
    for (const [key, entry] of pending) {
      if (now - entry.firstSentAt > GIVE_UP_MS) {
        pending.delete(key);
        undelivered(entry);
      } else if (live() && now - entry.lastSentAt > SEND_TIMEOUT_MS) {
        send(entry);
      }
    }
    setBusy(pending.size > 0);
  }, 2000);

  function undelivered(entry) {
    setBusy(false);
    errorBox.textContent = "";
    errorBox.append("Your refinement could not be delivered: the connection to the server is down. ");
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "secondary";
    retry.id = "refine-resend";
    retry.textContent = "Send it again";
    // Posted like a form without the socket; the same key, so the server still makes at most one turn.
    retry.addEventListener("click", function () {
      form.elements.key.value = entry.message.key;
      form.submit();
    });
    errorBox.append(retry);
  }

  function setBusy(busy) {
    form.classList.toggle("busy", busy);
    refineButton.disabled = busy;
    results.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function handle(message) {
    if (message.type === "turn") {
      pending.delete(message.key);
      showTurn(message);
    } else if (message.type === "error") {
      if (message.key) pending.delete(message.key);
      errorBox.textContent = message.message;
      setBusy(pending.size > 0);
    } else if (message.type === "state") {
      applyState(message);
    } else if (message.type !== "pong") {
      showEvent(message);
    }
  }

  function showTurn(message) {
    results.innerHTML = message.results_html;
    turnList.innerHTML = message.turns_html;
    parentInput.value = message.turn.id;
    form.elements.feedback.value = "";
    form.elements.text.value = "";
    errorBox.textContent = "";
    history.pushState({ turn: message.turn.position }, "", "?turn=" + message.turn.position);
    document.body.dataset.turn = message.turn.position;
    setBusy(pending.size > 0);
  }

  function applyState(state) {
    if (state.turns_html) turnList.innerHTML = state.turns_html;
    if (state.rewrite) showEvent(state.rewrite);
    for (const caption of state.captions || []) showEvent({ type: "caption", ...caption });
    for (const job of state.jobs || []) showEvent({ ...job, type: "job" });
  }

  // Pushed by background work ("job") and the language model ("rewrite"); anything else shows its message or type.
  function describe(message) {
    if (message.type === "rewrite") {
      const text = message.rewritten || message.text || "";
      return "Turn " + message.position + " reworded: “" + text + "”" + (message.reason ? " (" + message.reason + ")" : "");
    }
    if (message.type === "job") {
      return "Job " + (message.job || "") + ": " + (message.processed || 0) + "/" + (message.total || 0) + (message.message ? " · " + message.message : "");
    }
    if (message.type === "caption") {
      return "Your example image reads as: “" + message.caption + "”";
    }
    return message.message || message.text || message.type;
  }

  function signature(message) {
    if (message.type === "rewrite") return "rewrite:" + message.turn_id + ":" + message.state + ":" + message.applied;
    if (message.type === "caption") return "caption:" + message.query_image_id + ":" + message.caption;
    if (message.type === "job") return "job:" + message.job + ":" + message.state + ":" + message.processed;
    return null;
  }

  function showEvent(message) {
    const key = signature(message);
    if (key !== null) {
      if (seen.has(key)) return;
      seen.add(key);
    }
    const item = document.createElement("li");
    item.dataset.type = message.type;
    item.textContent = describe(message);
    events.prepend(item);
    while (events.children.length > 5) events.lastChild.remove();
  }

  function numberOrUndefined(value) {
    return value === null || value === "" ? undefined : Number(value);
  }

  function turnMessage(submitter) {
    const data = new FormData(form, submitter && submitter.name ? submitter : undefined);
    const weights = {};
    for (const [field, name] of Object.entries(WEIGHTS)) {
      const value = numberOrUndefined(data.get(field));
      if (value !== undefined) weights[name] = value;
    }
    return {
      type: "turn",
      key: newKey(),
      parent: numberOrUndefined(data.get("parent")),
      feedback: data.get("feedback") || "",
      text: data.get("text") || "",
      relevant: data.getAll("relevant").map(Number),
      not_relevant: data.getAll("not_relevant").map(Number),
      more_like: numberOrUndefined(data.get("more_like")),
      show_judged: data.get("show_judged") === "on",
      k: numberOrUndefined(data.get("k")),
      image_weight: numberOrUndefined(data.get("image_weight")),
      weights: weights,
    };
  }

  form.addEventListener("submit", function (event) {
    const upload = form.elements.image;
    if (!live() || (upload && upload.files.length)) {
      // Posted with a page reload: still under a key of its own, so a double click makes one turn.
      if (!form.elements.key.value) form.elements.key.value = newKey();
      return;
    }
    event.preventDefault();
    closeLightbox();
    errorBox.textContent = "";
    const message = turnMessage(event.submitter);
    const entry = { message: message, firstSentAt: Date.now(), lastSentAt: 0 };
    pending.set(message.key, entry);
    setBusy(true);
    send(entry);
  });

  // A result is relevant or not relevant, never both.
  document.addEventListener("change", function (event) {
    const box = event.target;
    if (!box.checked || (box.name !== "relevant" && box.name !== "not_relevant")) return;
    const other = box.name === "relevant" ? "not_relevant" : "relevant";
    const card = box.closest(".result");
    const twin = card && card.querySelector('input[name="' + other + '"]');
    if (twin) twin.checked = false;
  });

  window.addEventListener("popstate", function () {
    location.reload();
  });

  // Lightbox: the large image, its details, downloads and "more like this"; arrows step through the results.
  const lightbox = document.getElementById("lightbox");
  let current = null;

  function openLightbox(card) {
    current = card;
    const d = card.dataset;
    document.getElementById("lightbox-image").src = d.original;
    document.getElementById("lightbox-image").alt = d.caption || d.name;
    document.getElementById("lightbox-title").textContent = d.name;
    document.getElementById("lightbox-score").textContent = d.score;
    document.getElementById("lightbox-category").textContent = d.category || "—";
    document.getElementById("lightbox-size").textContent = d.size;
    document.getElementById("lightbox-caption").textContent = d.caption || "—";
    document.getElementById("lightbox-download").href = d.download + "?format=original";
    document.getElementById("lightbox-jpeg").href = d.download + "?format=jpeg";
    document.getElementById("lightbox-more").value = d.imageId;
    if (!lightbox.open) lightbox.showModal();
  }

  function closeLightbox() {
    if (lightbox && lightbox.open) lightbox.close();
  }

  results.addEventListener("click", function (event) {
    const link = event.target.closest("a.thumb");
    if (!link || !lightbox) return;
    event.preventDefault();
    openLightbox(link.closest(".result"));
  });
  document.getElementById("lightbox-close").addEventListener("click", closeLightbox);
  lightbox.addEventListener("close", function () {
    if (current) current.querySelector("a.thumb").focus();
  });
  lightbox.addEventListener("keydown", function (event) {
    if (!current || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) return;
    const next = event.key === "ArrowRight" ? current.nextElementSibling : current.previousElementSibling;
    if (next && next.classList.contains("result")) openLightbox(next);
  });

  setStatus(false, "Connecting…");
  if ("WebSocket" in window) connect();
  else setStatus(false, "Offline: refinements reload the page");
})();
