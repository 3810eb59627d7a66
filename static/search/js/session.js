// The search session page: turns over the websocket (no reload), the query bar and its removable refinements, a
// grid with one tab stop per picture (arrow keys move, letters act), a selection bar, "load more", the lightbox
// (buttons, arrow keys and swipes) and the turn drawer on phones. Without the socket (or with a file to upload) the
// forms simply post, and the server redirects back.
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
  const progress = document.getElementById("results-progress");
  const resultsStatus = document.getElementById("results-status");
  const summary = document.getElementById("marked-summary");
  const downloadForm = document.getElementById("download-form");
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

  // Every search and refinement shows that it is under way: a labelled bar above the results, busy buttons.
  function setBusy(busy) {
    form.classList.toggle("busy", busy);
    refineButton.disabled = busy;
    refineButton.textContent = busy ? "Refining…" : "Refine";
    const search = document.querySelector("#query button[type=submit]");
    if (search) search.disabled = busy;
    progress.hidden = !busy;
    results.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function handle(message) {
    if (message.type === "turn") {
      pending.delete(message.key);
      showTurn(message);
    } else if (message.type === "error") {
      if (message.key) pending.delete(message.key);
      showError(message);
      setBusy(pending.size > 0);
    } else if (message.type === "state") {
      applyState(message);
    } else if (message.type !== "pong") {
      showEvent(message);
    }
  }

  // A refusal is shown next to the field it is about: the description and the image by the query bar.
  function showError(message) {
    const near = message.field === "text" || message.field === "image" ? document.querySelector('#query [data-errors="' + message.field + '"]') : null;
    const box = near || errorBox;
    box.textContent = message.message;
    box.hidden = false;
  }

  function clearErrors() {
    for (const box of document.querySelectorAll("#query [data-errors], #refine-error")) box.textContent = "";
  }

  function showTurn(message) {
    results.innerHTML = message.results_html;
    turnList.innerHTML = message.turns_html;
    if (message.query_html) document.getElementById("query-panel").outerHTML = message.query_html;
    parentInput.value = message.turn.id;
    form.elements.feedback.value = "";
    clearErrors();
    history.pushState({ turn: message.turn.position }, "", "?turn=" + message.turn.position);
    document.body.dataset.turn = message.turn.position;
    const count = document.querySelectorAll("#result-grid .result").length;
    resultsStatus.textContent = "Turn " + message.turn.position + ": " + count + " picture" + (count === 1 ? "" : "s") + ".";
    updateDrawerCount();
    updateMarks();
    updateSelection();
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

  // What every turn shares: the weights, how many pictures, whether judged ones come back.
  function commonFields() {
    const data = new FormData(form);
    const weights = {};
    for (const [field, name] of Object.entries(WEIGHTS)) {
      const value = numberOrUndefined(data.get(field));
      if (value !== undefined) weights[name] = value;
    }
    return { k: numberOrUndefined(data.get("k")), show_judged: data.get("show_judged") === "on", weights: weights };
  }

  function refineMessage(submitter) {
    const data = new FormData(form, submitter && submitter.name ? submitter : undefined);
    return {
      type: "turn",
      key: newKey(),
      parent: numberOrUndefined(data.get("parent")),
      feedback: data.get("feedback") || "",
      relevant: data.getAll("relevant").map(Number),
      not_relevant: data.getAll("not_relevant").map(Number),
      more_like: numberOrUndefined(data.get("more_like")),
      ...commonFields(),
    };
  }

  // A search made again from this page keeps to the filters of the one on screen (dates, camera, hybrid words).
  function filtersInForce() {
    const filters = JSON.parse(document.getElementById("constraints").textContent).filters || {};
    return Object.keys(filters).length ? { filters: filters } : {};
  }

  function queryMessage(queryForm) {
    const data = new FormData(queryForm);
    return {
      ...filtersInForce(),
      type: "turn",
      key: newKey(),
      parent: numberOrUndefined(data.get("parent")),
      text: data.get("text") || "",
      query_image: numberOrUndefined(data.get("query_image")),
      image_weight: numberOrUndefined(data.get("image_weight")),
      ...commonFields(),
    };
  }

  // Removing one refinement searches again from where the branch started, with the others (and its judgements).
  function withoutConstraint(button) {
    const c = JSON.parse(document.getElementById("constraints").textContent);
    const feedback = c.feedback.filter((_, index) => String(index) !== button.dataset.feedback);
    const message = {
      type: "turn",
      key: newKey(),
      parent: shownTurnId(),
      feedback: feedback.join("; "),
      relevant: button.dataset.judged === "relevant" ? [] : c.relevant_ids,
      not_relevant: button.dataset.judged === "not_relevant" ? [] : c.not_relevant_ids,
      show_judged: true,
      ...{ k: commonFields().k, weights: commonFields().weights },
      ...filtersInForce(),
    };
    if (c.more_like_image_id) message.more_like = c.more_like_image_id;
    else {
      message.text = c.description;
      if (c.query_image_id) message.query_image = c.query_image_id;
    }
    return message;
  }

  function sendTurn(message) {
    closeLightbox();
    clearErrors();
    const entry = { message: message, firstSentAt: Date.now(), lastSentAt: 0 };
    pending.set(message.key, entry);
    setBusy(true);
    send(entry);
  }

  form.addEventListener("submit", function (event) {
    if (!live()) {
      // Posted with a page reload: still under a key of its own, so a double click makes one turn.
      if (!form.elements.key.value) form.elements.key.value = newKey();
      return;
    }
    event.preventDefault();
    sendTurn(refineMessage(event.submitter));
  });

  // The query bar is replaced after each turn, so its events are caught on the document.
  document.addEventListener("submit", function (event) {
    const queryForm = event.target;
    if (queryForm.id !== "query") return;
    const upload = queryForm.elements.image;
    if (!live() || (upload && upload.files.length)) {
      if (!queryForm.elements.key.value) queryForm.elements.key.value = newKey();
      return;
    }
    event.preventDefault();
    sendTurn(queryMessage(queryForm));
  }, true);

  document.addEventListener("click", function (event) {
    const chip = event.target.closest(".chip-remove");
    if (!chip) return;
    if (!live()) {
      errorBox.textContent = "Removing a refinement needs the live connection; it is reconnecting, try again in a moment.";
      return;
    }
    sendTurn(withoutConstraint(chip));
  });

  // --- marks (relevant / not relevant) and their summary by the Refine button ---
  function boxes(name) {
    return Array.from(results.querySelectorAll('input[name="' + name + '"]'));
  }

  function updateMarks() {
    const good = boxes("relevant").filter((box) => box.checked).length;
    const bad = boxes("not_relevant").filter((box) => box.checked).length;
    for (const card of results.querySelectorAll(".result")) {
      card.classList.toggle("marked-relevant", card.querySelector('input[name="relevant"]').checked);
      card.classList.toggle("marked-not", card.querySelector('input[name="not_relevant"]').checked);
    }
    summary.textContent = "";
    summary.classList.toggle("idle", !good && !bad);
    if (!good && !bad) {
      summary.textContent = "Tip: point at a picture and press ✓ (relevant) or ✕ (not relevant), then Refine.";
      return;
    }
    const strong = document.createElement("strong");
    strong.textContent = [good ? good + " relevant" : "", bad ? bad + " not relevant" : ""].filter(Boolean).join(", ");
    summary.append("Refine will use ", strong, " and your words, if any. ");
    const clear = document.createElement("button");
    clear.type = "button";
    clear.className = "link";
    clear.id = "clear-marks";
    clear.textContent = "Clear marks";
    clear.addEventListener("click", function () {
      for (const box of [...boxes("relevant"), ...boxes("not_relevant")]) box.checked = false;
      updateMarks();
    });
    summary.append(clear);
  }

  // A picture is relevant or not relevant, never both.
  function mark(card, name, on) {
    const box = card.querySelector('input[name="' + name + '"]');
    box.checked = on === undefined ? !box.checked : on;
    if (box.checked) {
      const other = name === "relevant" ? "not_relevant" : "relevant";
      card.querySelector('input[name="' + other + '"]').checked = false;
    }
  }

  // --- selection: the sticky bar ("3 selected · Download · Relevant · Not relevant") ---
  const countLabel = document.getElementById("selection-count");
  const selectionButtons = ["download-selected", "mark-relevant", "mark-not-relevant", "clear-selection"].map((id) => document.getElementById(id));

  function selectedCards() {
    return boxes("ids").filter((box) => box.checked).map((box) => box.closest(".result"));
  }

  function updateSelection() {
    const chosen = selectedCards();
    for (const card of results.querySelectorAll(".result")) card.classList.toggle("selected", card.querySelector('input[name="ids"]').checked);
    results.classList.toggle("selecting", chosen.length > 0);
    downloadForm.classList.toggle("idle", chosen.length === 0);
    countLabel.textContent = chosen.length ? chosen.length + " selected" : "Nothing selected";
    for (const button of selectionButtons) button.disabled = chosen.length === 0;
  }

  function select(card, on) {
    const box = card.querySelector('input[name="ids"]');
    box.checked = on === undefined ? !box.checked : on;
  }

  document.getElementById("mark-relevant").addEventListener("click", function () {
    for (const card of selectedCards()) { mark(card, "relevant", true); select(card, false); }
    updateMarks();
    updateSelection();
  });
  document.getElementById("mark-not-relevant").addEventListener("click", function () {
    for (const card of selectedCards()) { mark(card, "not_relevant", true); select(card, false); }
    updateMarks();
    updateSelection();
  });
  document.getElementById("clear-selection").addEventListener("click", function () {
    for (const card of selectedCards()) select(card, false);
    updateSelection();
  });

  document.addEventListener("change", function (event) {
    const box = event.target;
    if (box.name === "relevant" || box.name === "not_relevant") {
      if (box.checked) mark(box.closest(".result"), box.name, true);
      updateMarks();
    } else if (box.name === "ids") {
      updateSelection();
    }
  });

  // --- the grid: one tab stop per picture, arrow keys between pictures, letters for the actions ---
  function cards() {
    return Array.from(results.querySelectorAll("#result-grid .result"));
  }

  function columns() {
    const all = cards();
    if (all.length < 2) return 1;
    const top = all[0].offsetTop;
    const index = all.findIndex((card) => card.offsetTop !== top);
    return index === -1 ? all.length : index;
  }

  const MOVES = { ArrowRight: 1, ArrowLeft: -1, Home: "first", End: "last" };
  results.addEventListener("keydown", function (event) {
    const link = event.target.closest("a.thumb");
    if (!link || event.altKey || event.ctrlKey || event.metaKey) return;
    const card = link.closest(".result");
    const all = cards();
    const here = all.indexOf(card);
    let target = null;
    if (event.key in MOVES) {
      const move = MOVES[event.key];
      target = move === "first" ? all[0] : move === "last" ? all[all.length - 1] : all[here + move];
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      target = all[here + (event.key === "ArrowDown" ? 1 : -1) * columns()];
    } else if (event.key === "x" || event.key === " ") {
      select(card);
      updateSelection();
    } else if (event.key === "r" || event.key === "n") {
      mark(card, event.key === "r" ? "relevant" : "not_relevant");
      updateMarks();
    } else if (event.key === "m") {
      card.querySelector("button.more-like").click();
    } else {
      return;
    }
    event.preventDefault();
    if (target) target.querySelector("a.thumb").focus();
  });

  // --- load more: the turn's next results, appended to the grid ---
  results.addEventListener("click", async function (event) {
    const button = event.target.closest("#load-more");
    if (!button) return;
    button.disabled = true;
    button.textContent = "Loading…";
    const grid = document.getElementById("result-grid");
    const shown = grid.querySelectorAll(".result").length;
    try {
      const response = await fetch(button.dataset.url + "?shown=" + shown, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const page = await response.json();
      grid.insertAdjacentHTML("beforeend", page.html);
      const added = grid.querySelectorAll(".result").length - shown;
      resultsStatus.textContent = added + " more picture" + (added === 1 ? "" : "s") + " shown.";
      if (added) grid.querySelectorAll(".result")[shown].querySelector("a.thumb").focus();
      if (page.more && added) {
        button.disabled = false;
        button.textContent = "Load more";
      } else {
        button.replaceWith(Object.assign(document.createElement("p"), { className: "muted", textContent: "That is every picture that matches." }));
      }
    } catch (error) {
      button.disabled = false;
      button.textContent = "Could not load more pictures: try again";
    }
  });

  // Back and forward between turns reload the page at that turn; a jump within the page (the skip link) does not.
  const loadedPosition = (document.getElementById("turn-results") || {}).dataset?.turnPosition;
  window.addEventListener("popstate", function () {
    const wanted = new URLSearchParams(location.search).get("turn") || loadedPosition;
    if (wanted !== document.getElementById("turn-results").dataset.turnPosition) location.reload();
  });

  // --- lightbox: the large image, its details and actions; buttons, arrow keys and swipes step through ---
  const lightbox = document.getElementById("lightbox");
  const lightboxImage = document.getElementById("lightbox-image");
  let current = null;

  function openLightbox(card) {
    current = card;
    const d = card.dataset;
    // Never wider or taller than the picture itself: a small original stays sharp rather than blown up.
    lightboxImage.removeAttribute("src");
    lightboxImage.width = Number(d.width) || 0;
    lightboxImage.height = Number(d.height) || 0;
    lightboxImage.style.maxWidth = "min(100%, " + d.width + "px)";
    lightboxImage.src = d.original;
    lightboxImage.alt = d.caption || d.name;
    document.getElementById("lightbox-title").textContent = d.name;
    document.getElementById("lightbox-score").textContent = d.score + " (similarity to the query, 0 to 1)";
    document.getElementById("lightbox-category").textContent = d.category || "—";
    document.getElementById("lightbox-size").textContent = d.size;
    document.getElementById("lightbox-caption").textContent = d.caption || "—";
    document.getElementById("lightbox-download").href = d.download + "?format=original";
    document.getElementById("lightbox-jpeg").href = d.download + "?format=jpeg";
    document.getElementById("lightbox-more").value = d.imageId;
    const all = cards();
    document.getElementById("lightbox-prev").disabled = all.indexOf(card) <= 0;
    document.getElementById("lightbox-next").disabled = all.indexOf(card) >= all.length - 1;
    syncLightboxToggles();
    if (!lightbox.open) lightbox.showModal();
  }

  function syncLightboxToggles() {
    if (!current) return;
    const state = { "lightbox-select": "ids", "lightbox-relevant": "relevant", "lightbox-not-relevant": "not_relevant" };
    for (const [id, name] of Object.entries(state)) {
      document.getElementById(id).setAttribute("aria-pressed", String(current.querySelector('input[name="' + name + '"]').checked));
    }
  }

  function step(delta) {
    if (!current) return;
    const all = cards();
    const next = all[all.indexOf(current) + delta];
    if (next) openLightbox(next);
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
  document.getElementById("lightbox-prev").addEventListener("click", () => step(-1));
  document.getElementById("lightbox-next").addEventListener("click", () => step(1));
  document.getElementById("lightbox-select").addEventListener("click", function () {
    select(current);
    updateSelection();
    syncLightboxToggles();
  });
  for (const [id, name] of [["lightbox-relevant", "relevant"], ["lightbox-not-relevant", "not_relevant"]]) {
    document.getElementById(id).addEventListener("click", function () {
      mark(current, name);
      updateMarks();
      syncLightboxToggles();
    });
  }
  lightbox.addEventListener("close", function () {
    if (current && current.isConnected) current.querySelector("a.thumb").focus();
  });
  lightbox.addEventListener("keydown", function (event) {
    if (event.key === "ArrowRight") step(1);
    else if (event.key === "ArrowLeft") step(-1);
  });
  // A horizontal swipe on the picture steps through the results; a vertical one scrolls as usual.
  let swipeStart = null;
  const stage = document.getElementById("lightbox-stage");
  stage.addEventListener("pointerdown", function (event) {
    swipeStart = { x: event.clientX, y: event.clientY };
  });
  stage.addEventListener("pointerup", function (event) {
    if (!swipeStart) return;
    const dx = event.clientX - swipeStart.x;
    const dy = event.clientY - swipeStart.y;
    swipeStart = null;
    if (Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy)) step(dx < 0 ? 1 : -1);
  });

  // --- phones: the turns in a drawer ---
  const drawerToggle = document.getElementById("drawer-toggle");
  const scrim = document.getElementById("drawer-scrim");
  function setDrawer(open) {
    document.body.classList.toggle("drawer-open", open);
    drawerToggle.setAttribute("aria-expanded", String(open));
    scrim.hidden = !open;
    if (open) document.querySelector("#turn-column .turn-link, #drawer-close").focus();
    else drawerToggle.focus();
  }
  function updateDrawerCount() {
    drawerToggle.textContent = "Turns (" + turnList.querySelectorAll(".turn-node").length + ")";
  }
  drawerToggle.addEventListener("click", () => setDrawer(!document.body.classList.contains("drawer-open")));
  document.getElementById("drawer-close").addEventListener("click", () => setDrawer(false));
  scrim.addEventListener("click", () => setDrawer(false));
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.body.classList.contains("drawer-open")) setDrawer(false);
  });

  updateMarks();
  updateSelection();
  setStatus(false, "Connecting…");
  if ("WebSocket" in window) connect();
  else setStatus(false, "Offline: refinements reload the page");
})();
