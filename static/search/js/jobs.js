// Live progress of a background job: the page joins ws/jobs/<id>/ and redraws the bar and the log on each event.
(function () {
  "use strict";
  const box = document.getElementById("job");
  if (!box) return;
  const field = (name) => box.querySelector(`[data-field="${name}"]`);
  const finished = new Set(["succeeded", "failed", "cancelled"]);
  const labels = { indexed: "indexed", skipped: "skipped", failed: "failed", downloaded: "downloaded" };

  function draw(event) {
    // A failure is explained in words, with a retry button, by the page itself: show it.
    if (event.state === "failed" && box.dataset.state !== "failed") {
      location.reload();
      return;
    }
    if (!field("bar")) return;
    for (const name of ["done", "skipped", "failed", "total"]) field(name).textContent = event[name];
    field("bar").max = Math.max(event.total, 1);
    field("bar").value = event.processed;
    field("state").textContent = event.state;
    if (event.message) field("message").textContent = event.message;
    if (event.event === "found") field("message").textContent = `found ${event.found} candidate images`;
    if (labels[event.event] && event.url) {
      const line = document.createElement("li");
      line.className = event.event;
      line.textContent = `${labels[event.event]} ${event.url}${event.reason ? ": " + event.reason : ""}`;
      field("log").prepend(line);
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${box.dataset.socket}`);
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type !== "job") return;
      draw(event);
      if (finished.has(event.state)) {
        field("cancel")?.remove(); // nothing left to cancel
        socket.close();
      }
    };
    socket.onclose = (closing) => {
      if (closing.code < 4000 && !finished.has(field("state").textContent)) setTimeout(connect, 2000);
    };
  }
  connect();
})();
