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
  // After htmx swaps a step in, move focus to its heading so keyboard and screen-reader users follow.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    var wizard = document.getElementById("wizard");
    if (!target || target.id !== "wizard" || !wizard) return;
    enhance(wizard);
    var heading = wizard.querySelector("h1");
    if (heading) heading.focus({ preventScroll: true });
  });
})();
