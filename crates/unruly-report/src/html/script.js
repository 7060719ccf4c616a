(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "0";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok;
  }

  function selectText(node) {
    var selection = window.getSelection();
    var range = document.createRange();
    range.selectNodeContents(node);
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function settle(button, source, ok) {
    button.textContent = ok ? "Copied" : "Press Ctrl+C";
    if (!ok) {
      selectText(source);
    }
    window.setTimeout(function () {
      button.textContent = "Copy";
    }, 1600);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var button = target && target.closest ? target.closest("button[data-copy]") : null;
    if (!button) {
      return;
    }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    var text = source.textContent;
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(
        function () {
          settle(button, source, true);
        },
        function () {
          settle(button, source, fallbackCopy(text));
        }
      );
    } else {
      settle(button, source, fallbackCopy(text));
    }
  });
})();
