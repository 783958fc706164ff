// Small enhancements only: every page works without this file.
(function () {
  function enhance(root) {
    // Each button carries its "copied" word in the page's language (data-copied-label): no words in here.
    root.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
      if (!navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.dataset.copy).then(function () { button.textContent = button.dataset.copiedLabel; });
      });
    });
    root.querySelectorAll("button.print").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  // After htmx swaps a step (or an error page's main content) in, move focus to its heading so keyboard and
  // screen-reader users follow; after a refusal, htmx has already focused the box to fix (its autofocus).
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || (target.id !== "wizard" && target.id !== "main")) return;
    var swapped = document.getElementById("wizard") || document.getElementById("main");
    enhance(swapped);
    var heading = swapped.querySelector("h1");
    if (heading && !swapped.querySelector("[autofocus]")) heading.focus({ preventScroll: true });
  });
  // An error reply that is not one of our pages (a proxy's own error page, an empty reply) has no main
  // content to pick out: it is shown whole in its place, as the browser shows it without this file.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (!detail.isError || !detail.shouldSwap) return;
    var reply = new DOMParser().parseFromString(detail.serverResponse || "", "text/html");
    if (!reply.getElementById("main")) detail.selectOverride = "unset";
  });
  // A request that got no answer at all (a phone between networks, a server restarting) is made again by the
  // browser itself, as without this file: it then shows the answer, or its own page saying the network is
  // gone, never nothing. A send's form sends once whatever happens (its single-use token).
  document.addEventListener("htmx:sendError", function (event) {
    var elt = event.detail.elt;
    if (elt.tagName === "A" && elt.href) {
      window.location.assign(elt.href);
    } else if (elt.tagName === "FORM") {
      var config = event.detail.requestConfig || {};
      var submitter = config.triggeringEvent && config.triggeringEvent.submitter;
      if (submitter && submitter.name) {
        // The button pressed is part of the answer ("Yes, it arrived"); a plain submit() leaves it out.
        var pressed = document.createElement("input");
        pressed.type = "hidden";
        pressed.name = submitter.name;
        pressed.value = submitter.value;
        elt.appendChild(pressed);
      }
      HTMLFormElement.prototype.submit.call(elt);  // no submit event: htmx leaves this one to the browser
    }
  });
})();
