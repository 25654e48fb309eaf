// Progressive enhancement for the proposal form: a button that fills the coordinates
// from the device's position. Without JavaScript (or without permission) the address
// and the two number fields work as they are.
(function () {
  "use strict";
  var box = document.querySelector("[data-locate]");
  if (!box || !navigator.geolocation) { return; }
  var lat = box.querySelector("input[name=latitude]");
  var lon = box.querySelector("input[name=longitude]");
  if (!lat || !lon) { return; }
  var lang = document.documentElement.lang;
  var button = document.createElement("button");
  button.type = "button";
  button.className = "secondary";
  button.textContent = lang === "en" ? "Use my current position" : "Utiliser ma position actuelle";
  var status = document.createElement("p");
  status.setAttribute("role", "status");
  status.className = "help";
  button.addEventListener("click", function () {
    status.textContent = lang === "en" ? "Locating…" : "Localisation…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      lat.value = pos.coords.latitude.toFixed(6);
      lon.value = pos.coords.longitude.toFixed(6);
      status.textContent = lang === "en" ? "Coordinates filled in." : "Coordonnées renseignées.";
    }, function () {
      status.textContent = lang === "en" ? "Position unavailable: give the address instead."
        : "Position indisponible : indiquez plutôt l’adresse.";
    }, {timeout: 10000});
  });
  box.appendChild(button);
  box.appendChild(status);
}());

// A click on the tile-less map fills the coordinates (inverse of civic/budgeting/mapsvg.py).
(function () {
  "use strict";
  var svg = document.querySelector("svg[data-map]");
  if (!svg || !svg.createSVGPoint) { return; }
  var form = svg.closest("form");
  var lat = form && form.querySelector("input[name=latitude]");
  var lon = form && form.querySelector("input[name=longitude]");
  var marker = svg.querySelector(".map-marker");
  if (!lat || !lon) { return; }
  var west = parseFloat(svg.dataset.west), north = parseFloat(svg.dataset.north);
  var scale = parseFloat(svg.dataset.scale), kx = parseFloat(svg.dataset.kx);
  svg.classList.add("is-pickable");
  svg.addEventListener("click", function (event) {
    var pt = svg.createSVGPoint();
    pt.x = event.clientX;
    pt.y = event.clientY;
    var p = pt.matrixTransform(svg.getScreenCTM().inverse());
    lon.value = (west + p.x / (kx * scale)).toFixed(6);
    lat.value = (north - p.y / scale).toFixed(6);
    if (marker) {
      marker.setAttribute("cx", p.x.toFixed(1));
      marker.setAttribute("cy", p.y.toFixed(1));
      marker.classList.remove("is-hidden");
    }
  });
}());
