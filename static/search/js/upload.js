// The upload page: each chosen or dropped file is checked here (type, size), then sent to POST /api/images/.
// A small batch goes one file per request, so every file has its own progress bar and outcome; a batch larger
// than the server ingests at once goes in requests of up to its per-request limits and becomes a background job,
// whose progress is polled from GET /api/jobs/<id>/.
(() => {
  "use strict";
  const root = document.getElementById("upload");
  if (!root) return;
  const limits = {
    fileBytes: Number(root.dataset.fileBytes),
    requestBytes: Number(root.dataset.requestBytes),
    requestFiles: Number(root.dataset.requestFiles),
    syncFiles: Number(root.dataset.syncFiles),
    extensions: root.dataset.extensions.split(","),
  };
  const input = document.getElementById("upload-files");
  const dropzone = document.getElementById("dropzone");
  const list = document.getElementById("upload-list");
  const summary = document.getElementById("upload-summary");
  const jobBar = document.getElementById("upload-job");
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const LABELS = {
    added: "Added",
    present: "Already in the collection",
    refused: "Not added",
    failed: "Failed",
    queued: "Queued",
    sending: "Sending",
  };
  const counts = {};

  function megabytes(bytes) {
    return `${(bytes / 1048576).toFixed(1)} MB`;
  }

  function row(file) {
    const item = document.createElement("li");
    item.className = "upload-item";
    const name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 1;
    bar.value = 0;
    bar.setAttribute("aria-label", `Sending ${file.name}`);
    const state = document.createElement("span");
    state.className = "upload-state";
    item.append(name, bar, state);
    list.append(item);
    return { item, bar, state };
  }

  function show(entry, outcome, reason = "") {
    if (outcome === "present") reason = ""; // its label says it all
    entry.item.dataset.state = outcome;
    entry.state.textContent = LABELS[outcome] + (reason ? `: ${reason}` : "");
    if (outcome !== "sending") {
      entry.bar.hidden = true;
      counts[outcome] = (counts[outcome] || 0) + 1;
      summarise();
    }
  }

  function summarise() {
    summary.textContent = Object.entries(counts)
      .map(([outcome, count]) => `${count} ${LABELS[outcome].toLowerCase()}`)
      .join(" · ");
  }

  function refusal(file) {
    const dot = file.name.lastIndexOf(".");
    const extension = dot >= 0 ? file.name.slice(dot).toLowerCase() : "";
    if (!limits.extensions.includes(extension) && !file.type.startsWith("image/")) {
      return "not a photo file (use JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC or AVIF)";
    }
    if (file.size > limits.fileBytes) {
      return `${megabytes(file.size)} is over the limit of ${megabytes(limits.fileBytes)}`;
    }
    if (file.size === 0) return "the file is empty";
    return "";
  }

  // One request: resolves with the answer's JSON (or an error message), reporting upload progress on the way.
  function send(files, onProgress) {
    return new Promise((resolve) => {
      const form = new FormData();
      files.forEach((file) => form.append("files", file));
      form.append("category", document.getElementById("upload-category").value);
      const request = new XMLHttpRequest();
      request.open("POST", root.dataset.endpoint);
      request.setRequestHeader("X-CSRFToken", csrf);
      request.setRequestHeader("Accept", "application/json");
      request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
      request.onload = () => {
        let body = null;
        try {
          body = JSON.parse(request.responseText);
        } catch {
          body = null;
        }
        if (request.status >= 200 && request.status < 300 && body) resolve({ body });
        else resolve({ error: body?.errors?.[0]?.message || `The server answered ${request.status}.` });
      };
      request.onerror = () => resolve({ error: "The connection failed; try again." });
      request.send(form);
    });
  }

  function answer(entries, result) {
    if (result.error) {
      entries.forEach((entry) => show(entry, "failed", result.error));
      return;
    }
    result.body.results.forEach((outcome, index) => show(entries[index], outcome.state, outcome.reason));
    if (result.body.job) follow(result.body.job);
  }

  async function follow(job) {
    jobBar.hidden = false;
    jobBar.max = job.total || 1;
    for (;;) {
      const response = await fetch(job.url, { headers: { Accept: "application/json" } });
      if (!response.ok) break;
      const state = await response.json();
      jobBar.value = state.processed;
      summary.textContent = `Background job: ${state.processed} of ${state.total} done (${state.done} added, ${state.skipped} already there, ${state.failed} failed)`;
      if (["succeeded", "failed", "cancelled"].includes(state.state)) {
        if (state.message) summary.textContent += `. ${state.message}`;
        break;
      }
      await new Promise((wait) => setTimeout(wait, 1000));
    }
  }

  // Requests of at most requestFiles files and requestBytes bytes (less a margin for the form's own bytes).
  function chunks(entries) {
    const groups = [];
    let group = [];
    let bytes = 0;
    for (const entry of entries) {
      const full = group.length >= limits.requestFiles || bytes + entry.file.size > limits.requestBytes * 0.95;
      if (group.length && full) {
        groups.push(group);
        group = [];
        bytes = 0;
      }
      group.push(entry);
      bytes += entry.file.size;
    }
    if (group.length) groups.push(group);
    return groups;
  }

  async function upload(files) {
    const entries = [];
    for (const file of files) {
      const entry = { file, ...row(file) };
      const reason = refusal(file);
      if (reason) show(entry, "refused", reason);
      else entries.push(entry);
    }
    if (entries.length <= limits.syncFiles) {
      for (const entry of entries) {
        show(entry, "sending");
        answer([entry], await send([entry.file], (share) => (entry.bar.value = share)));
      }
      return;
    }
    for (const group of chunks(entries)) {
      group.forEach((entry) => show(entry, "sending"));
      const result = await send(
        group.map((entry) => entry.file),
        (share) => group.forEach((entry) => (entry.bar.value = share)),
      );
      answer(group, result);
    }
  }

  input.addEventListener("change", () => {
    upload([...input.files]);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach((name) =>
    dropzone.addEventListener(name, (event) => {
      event.preventDefault();
      dropzone.classList.add("over");
    }),
  );
  ["dragleave", "drop"].forEach((name) => dropzone.addEventListener(name, () => dropzone.classList.remove("over")));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    upload([...event.dataTransfer.files]);
  });
})();
