// deltagres console: reloads the queries list every 2 s while the box is ticked.
(function () {
  var box = document.getElementById("auto-refresh");
  if (!box) return;
  box.checked = sessionStorage.getItem("deltagres.refresh") !== "off";
  box.addEventListener("change", function () {
    sessionStorage.setItem("deltagres.refresh", box.checked ? "on" : "off");
  });
  setInterval(function () {
    if (box.checked) location.reload();
  }, 2000);
})();
