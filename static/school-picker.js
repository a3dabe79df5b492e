// School pickers: as a person types, offer the schools that match (name, URN, town or
// postcode) in the field's list. Without this script the field still works: a URN or an
// exact name is read by the server.
(function () {
  "use strict";
  var timers = new WeakMap();
  function offer(input) {
    var q = input.value.trim();
    var list = document.getElementById(input.getAttribute("list"));
    if (!list || q.length < 2 || q.indexOf("(URN ") >= 0 || q.indexOf("(no URN") >= 0) {
      return;
    }
    fetch("/schools/search?q=" + encodeURIComponent(q), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (items) {
        while (list.firstChild) { list.removeChild(list.firstChild); }
        items.forEach(function (item) {
          var option = document.createElement("option");
          option.value = item.label;
          list.appendChild(option);
        });
      })
      .catch(function () {});
  }
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.hasAttribute || !input.hasAttribute("data-school-search")) { return; }
    clearTimeout(timers.get(input));
    timers.set(input, setTimeout(function () { offer(input); }, 200));
  });
})();
