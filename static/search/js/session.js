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
  let socket = null;
  let retries = 0;

  function setStatus(live, text) {
    status.textContent = text;
    status.classList.toggle("offline", !live);
    document.body.dataset.socket = live ? "open" : "closed";
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(scheme + "://" + location.host + form.dataset.wsPath);
    ws.addEventListener("open", function () {
      socket = ws;
      retries = 0;
      setStatus(true, "Live: results update in place");
    });
    ws.addEventListener("close", function () {
      socket = null;
      setBusy(false);
      setStatus(false, "Offline: refinements reload the page");
      if (retries < 5) setTimeout(connect, 1000 * 2 ** retries++);
    });
    ws.addEventListener("message", function (event) {
      handle(JSON.parse(event.data));
    });
  }

  function setBusy(busy) {
    form.classList.toggle("busy", busy);
    refineButton.disabled = busy;
    results.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function handle(message) {
    if (message.type === "turn") {
      results.innerHTML = message.results_html;
      turnList.innerHTML = message.turns_html;
      parentInput.value = message.turn.id;
      form.elements.feedback.value = "";
      form.elements.text.value = "";
      errorBox.textContent = "";
      history.pushState({ turn: message.turn.position }, "", "?turn=" + message.turn.position);
      document.body.dataset.turn = message.turn.position;
      setBusy(false);
    } else if (message.type === "error") {
      errorBox.textContent = message.message;
      setBusy(false);
    } else if (message.type !== "pong") {
      showEvent(message);
    }
  }

  // Pushed by background work ("job") and the language model ("rewrite"); anything else shows its message or type.
  function describe(message) {
    if (message.type === "rewrite") {
      const text = message.rewritten || message.text || "";
      return "Turn " + message.position + " reworded: “" + text + "”" + (message.reason ? " (" + message.reason + ")" : "");
    }
    if (message.type === "job") {
      return "Job " + (message.id || "") + ": " + (message.processed || 0) + "/" + (message.total || 0) + (message.message ? " · " + message.message : "");
    }
    return message.message || message.text || message.type;
  }

  function showEvent(message) {
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
    if (!socket || socket.readyState !== WebSocket.OPEN || (upload && upload.files.length)) return;
    event.preventDefault();
    closeLightbox();
    errorBox.textContent = "";
    setBusy(true);
    socket.send(JSON.stringify(turnMessage(event.submitter)));
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
})();
