// Every page: the collapsible navigation on phones, file checks before uploading, a note when pasted text is cut
// at a field's limit, a visible progress state on forms that search, and forms that keep the chosen file when the
// server finds a problem (they post in the background and show only the errors).
(function () {
  "use strict";

  const toggle = document.querySelector(".nav-toggle");
  const nav = document.getElementById("site-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      document.body.classList.toggle("nav-open", open);
    });
  }

  function megabytes(bytes) {
    return (bytes / (1024 * 1024)).toFixed(bytes < 1024 * 1024 ? 2 : 1).replace(/\.0+$/, "");
  }

  // The message element next to a field (its id is in the field's aria-describedby, first).
  function messageFor(field) {
    const id = (field.getAttribute("aria-describedby") || "").split(" ")[0];
    return id ? document.getElementById(id) : null;
  }

  function showFieldError(field, text) {
    const box = messageFor(field);
    field.setCustomValidity(text);
    field.setAttribute("aria-invalid", text ? "true" : "false");
    if (box) {
      box.textContent = text;
      box.hidden = !text;
    }
  }

  // Size and type are checked here, before anything is sent; the server checks the content again.
  function checkFile(input) {
    const file = input.files && input.files[0];
    if (!file) return showFieldError(input, "");
    const limit = Number(input.dataset.maxBytes || 0);
    const types = (input.getAttribute("accept") || "").split(",").filter(Boolean);
    if (types.length && !types.includes(file.type)) {
      return showFieldError(input, "“" + file.name + "” is not a JPEG, PNG, WebP or GIF image. Choose a picture in one of these formats.");
    }
    if (limit && file.size > limit) {
      return showFieldError(input, "“" + file.name + "” is " + megabytes(file.size) + " MB; pictures up to " + megabytes(limit) + " MB can be used. Choose a smaller one.");
    }
    showFieldError(input, "");
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches('input[type="file"][data-max-bytes]')) checkFile(event.target);
  });

  // Browsers cut pasted text at maxlength without a word: say so next to the field.
  document.addEventListener("paste", function (event) {
    const field = event.target;
    if (!field.matches || !field.matches("input[maxlength], textarea[maxlength]")) return;
    const limit = Number(field.getAttribute("maxlength"));
    const pasted = (event.clipboardData || window.clipboardData).getData("text");
    const kept = field.value.length - (field.selectionEnd - field.selectionStart);
    if (kept + pasted.length <= limit) return;
    const described = (field.getAttribute("aria-describedby") || "").split(" ").map((id) => document.getElementById(id));
    const note = described.find((element) => element && element.classList.contains("length-note"));
    if (note) {
      note.textContent = "Your text was shortened to " + limit.toLocaleString("en") + " characters, the most a query can hold.";
      note.hidden = false;
    }
  });

  // A visible progress state while a search runs: the button says what is happening and a labelled bar shows.
  function setBusy(form, busy) {
    const button = form.querySelector("[data-busy-label]");
    const bar = form.querySelector(".form-progress");
    form.setAttribute("aria-busy", String(busy));
    if (button) {
      if (!button.dataset.idleLabel) button.dataset.idleLabel = button.textContent;
      button.textContent = busy ? button.dataset.busyLabel : button.dataset.idleLabel;
      button.disabled = busy;
    }
    if (bar) bar.hidden = !busy;
  }
  window.imagesearch = { setBusy: setBusy, showFieldError: showFieldError };

  // Buttons that copy a field's text (an API key shown once), and forms that ask before doing something final.
  document.addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-copy]");
    if (!button) return;
    const field = document.getElementById(button.dataset.copy);
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
    } catch (error) {
      document.execCommand("copy"); // pages served over plain http have no clipboard API
    }
    button.textContent = button.dataset.copiedLabel || "Copied";
  });
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  }, true);

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.matches("form[data-progress]") || event.defaultPrevented) return;
    if (!form.matches("[data-keep-file]")) {
      setBusy(form, true);
      return;
    }
    event.preventDefault();
    setBusy(form, true);
    postKeepingFile(form, event.submitter).finally(function () {
      setBusy(form, false);
    });
  });

  // Posted in the background: a redirect is followed; a refusal shows its messages and keeps every field as it is.
  async function postKeepingFile(form, submitter) {
    let response;
    try {
      response = await fetch(form.action, { method: "POST", body: new FormData(form, submitter), credentials: "same-origin" });
    } catch (error) {
      showErrors(form, null, "The server could not be reached. Check your connection and try again.");
      return;
    }
    if (response.redirected || response.ok) {
      location.assign(response.url);
      return new Promise(function () {}); // stay busy until the next page shows
    }
    const html = await response.text();
    const answer = new DOMParser().parseFromString(html, "text/html").getElementById(form.id);
    showErrors(form, answer, answer ? "" : "The server refused the request (" + response.status + "). Try again.");
  }

  function showErrors(form, answer, fallback) {
    for (const box of form.querySelectorAll("[data-errors]")) {
      const fresh = answer && answer.querySelector('[data-errors="' + box.dataset.errors + '"]');
      box.textContent = fresh ? fresh.textContent : "";
      box.hidden = !box.textContent.trim();
    }
    const general = form.querySelector('[data-errors="form"]');
    if (fallback && general) {
      general.textContent = fallback;
      general.hidden = false;
    }
    const first = form.querySelector("[data-errors]:not([hidden])");
    if (first) first.focus();
  }
})();
