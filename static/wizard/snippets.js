// The "fill in my password and API Key" box: it writes the values into the snippets on this page only.
// Nothing here sends anything: the inputs belong to no form and have no name, and no request is made.
// Each format's encoder is the one wizard/catalog/snippets.py uses (the tests run both through the
// format's real parser).
(function () {
  function percent(value) {
    return encodeURIComponent(value).replace(/[!'()*]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    });
  }
  function jsonString(value) { return JSON.stringify(value); }
  function shellWord(value) { return "'" + value.replace(/'/g, "'\"'\"'") + "'"; }
  function singleQuotedWithBackslashes(value) {
    return "'" + value.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
  }
  function properties(value) {
    var named = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f" };
    var written = "";
    for (var i = 0; i < value.length; i++) {
      var c = value.charAt(i), code = value.charCodeAt(i);
      if (named[c]) written += named[c];
      else if (" =:#!".indexOf(c) >= 0) written += "\\" + c;
      else if (code > 32 && code < 127) written += c;
      else written += "\\u" + ("000" + code.toString(16)).slice(-4);
    }
    return written;
  }
  var encoders = {
    url: percent,
    dsn: percent,
    yaml: jsonString,
    json: jsonString,
    python: jsonString,
    shell: shellWord,
    // A shell word in a Nagios object definition: Nagios reads "$" as a macro and ";" as a comment first.
    nagios: function (value) {
      return shellWord(value).replace(/[$;]/g, function (c) { return c === "$" ? "$$" : "\\;"; });
    },
    php: singleQuotedWithBackslashes,
    // A function as the replacement: in a replacement string "$" has meanings of its own.
    dotenv: function (value) {
      return '"' + value.replace(/[\\"$]/g, function (c) { return "\\" + c; }) + '"';
    },
    properties: properties,
    text: function (value) { return value; }
  };
  window.portalSnippetEncoders = encoders;

  function fill(root) {
    var values = {};
    root.querySelectorAll("[data-fill]").forEach(function (input) { values[input.dataset.fill] = input.value; });
    root.querySelectorAll("figure.snippet").forEach(function (figure) {
      var encode = encoders[figure.dataset.format];
      figure.querySelectorAll(".slot").forEach(function (slot) {
        if (!slot.dataset.placeholder) slot.dataset.placeholder = slot.textContent;
        var value = values[slot.dataset.slot];
        slot.textContent = value ? encode(value) : slot.dataset.placeholder;
        slot.classList.toggle("filled", Boolean(value));
      });
    });
  }

  function enhance(root) {
    var box = root.querySelector(".snippet-fill");
    if (box && box.hidden) {
      box.hidden = false;
      box.querySelectorAll("[data-fill]").forEach(function (input) {
        input.addEventListener("input", function () { fill(root); });
      });
    }
    root.querySelectorAll("button.copy-snippet").forEach(function (button) {
      if (!navigator.clipboard || !button.hidden) return;
      button.hidden = false;
      var label = button.textContent;
      button.addEventListener("click", function () {
        var code = button.parentNode.querySelector("pre code");
        navigator.clipboard.writeText(code.textContent).then(function () {
          button.textContent = button.dataset.copiedLabel;
          window.setTimeout(function () { button.textContent = label; }, 2000);
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  // The event's target is the step that was swapped out (outerHTML): the new one is looked up afresh.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    var wizard = document.getElementById("wizard");
    if (target && target.id === "wizard" && wizard) enhance(wizard);
  });
})();
