// Small helps for every page; each page works without them.
(function () {
  "use strict";
  // "Copy" buttons: copy the named field's text. Without script the field is there to select.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        var status = document.getElementById(button.getAttribute("data-copy") + "-copied");
        if (status) { status.textContent = "Copied."; }
      });
    });
  });
})();
