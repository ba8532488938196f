// Draws every chart of a keyrotor page from the JSON beside its box (src/chart.rs), with
// uPlot: hover shows each series' value at that x, drag zooms, double click zooms back out.
// Events and fault windows are marked on time axes.
(function () {
  "use strict";
  function clock(seconds) {
    var t = Math.max(0, Math.round(seconds));
    var h = Math.floor(t / 3600), m = Math.floor(t / 60) % 60, s = t % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return h > 0 ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }
  function percentile(nines) {
    var pct = 100 - 100 / Math.pow(10, nines);
    return pct.toFixed(Math.max(0, Math.ceil(nines) - 2)) + " %";
  }
  function whole(v) { return Number.isInteger(v) ? String(v) : ""; }
  var formats = { clock: clock, nines: percentile, count: whole, key: whole };
  // Tick positions: whole minutes or seconds on a clock, whole nines, whole counts.
  var splits = {
    clock: function (u, axis, min, max) {
      var span = max - min, steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600];
      var step = steps.find(function (s) { return span / s <= 8; }) || 86400;
      var out = [];
      for (var v = Math.ceil(min / step) * step; v <= max; v += step) out.push(v);
      return out;
    },
    nines: function (u, axis, min, max) {
      var out = [];
      for (var v = Math.ceil(min); v <= max; v++) out.push(v);
      return out;
    },
    count: function (u, axis, min, max) {
      var step = Math.max(1, Math.ceil((max - min) / 10));
      var out = [];
      for (var v = Math.ceil(min / step) * step; v <= max; v += step) out.push(v);
      return out;
    }
  };
  splits.key = splits.count;
  function rgb(c, alpha) {
    return "rgba(" + c[0] + "," + c[1] + "," + c[2] + "," + (alpha === undefined ? 1 : alpha) + ")";
  }
  function marksPlugin(marks) {
    return {
      hooks: {
        draw: function (u) {
          var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height, ratio = window.devicePixelRatio || 1;
          ctx.save();
          marks.forEach(function (m, i) {
            var x0 = u.valToPos(m.from_s, "x", true);
            ctx.fillStyle = ctx.strokeStyle = "rgba(90,60,160,0.9)";
            if (m.until_s !== null && m.until_s !== undefined) {
              var x1 = u.valToPos(m.until_s, "x", true);
              ctx.fillStyle = "rgba(90,60,160,0.08)";
              ctx.fillRect(x0, top, x1 - x0, height);
              ctx.fillStyle = "rgba(90,60,160,0.9)";
            } else {
              ctx.setLineDash([6 * ratio, 4 * ratio]);
              ctx.beginPath();
              ctx.moveTo(x0, top);
              ctx.lineTo(x0, top + height);
              ctx.stroke();
              ctx.setLineDash([]);
            }
            ctx.font = (12 * ratio) + "px system-ui, sans-serif";
            ctx.fillText(" " + m.label, x0, top + (14 + 16 * (i % 4)) * ratio);
          });
          ctx.restore();
        }
      }
    };
  }
  // Bars side by side at every x (a key's index), one per series, within 0.8 of a unit; the
  // legend still shows each series' value at the hovered key.
  function barsPlugin(series) {
    var width = 0.8 / Math.max(1, series.length);
    return {
      hooks: {
        draw: function (u) {
          var ctx = u.ctx;
          ctx.save();
          for (var s = 1; s < u.series.length; s++) {
            if (!u.series[s].show) continue;
            ctx.fillStyle = rgb(series[s - 1].rgb);
            var x0 = -0.4 + (s - 1) * width;
            u.data[0].forEach(function (x, i) {
              var v = u.data[s][i];
              if (v === null || v === undefined) return;
              var left = u.valToPos(x + x0, "x", true), right = u.valToPos(x + x0 + width, "x", true);
              var top = u.valToPos(v, "y", true), bottom = u.valToPos(0, "y", true);
              ctx.fillRect(left, top, Math.max(1, right - left - 1), bottom - top);
            });
          }
          ctx.restore();
        }
      }
    };
  }
  document.querySelectorAll("script.chart-data").forEach(function (node) {
    var chart = JSON.parse(node.textContent);
    var box = node.previousElementSibling;
    var data = [chart.x].concat(chart.series.map(function (s) { return s.values; }));
    var format = formats[chart.x_kind];
    // The last x where a measured (not reference) series has a value.
    var last = chart.x.length - 1;
    var measuredAt = function (i) {
      return chart.series.some(function (s) { return !s.reference && s.values[i] !== null && s.values[i] !== undefined; });
    };
    while (last > 0 && !measuredAt(last)) { last--; }
    var options = {
      title: chart.title,
      width: Math.max(320, Math.min(960, box.clientWidth || 960)),
      height: 380,
      // Counts and times start at zero, so a flat line reads as flat.
      scales: {
        // The PNG's x range (Chart::x_range), so page and picture show the same span.
        x: { time: false, range: function () { return chart.x_range; } },
        y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } }
      },
      series: [{ label: chart.x_label, value: function (u, v) { return v === null || v === undefined ? "–" : format(v); } }]
        .concat(chart.series.map(function (s) {
          return {
            label: s.label,
            stroke: rgb(s.rgb),
            width: s.reference ? 1 : 2,
            dash: s.reference ? [6, 4] : undefined,
            spanGaps: true,
            paths: chart.x_kind === "key" ? function () { return null; } : undefined,
            points: { show: chart.x_kind === "count" },
            value: function (u, v) { return v === null || v === undefined ? "–" : v.toFixed(v < 10 ? 2 : 1); }
          };
        })),
      axes: [
        { label: chart.x_label, splits: splits[chart.x_kind], values: function (u, vals) { return vals.map(format); } },
        // Whole counts (attempts, 429s per key) get whole-number ticks.
        chart.x_kind === "key"
          ? { label: chart.y_label, size: 70, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7] }
          : { label: chart.y_label, size: 70 }
      ],
      // Without a cursor the legend shows the last measured point's values, not "–".
      hooks: {
        setLegend: [function (u) {
          if (u.legend.idx == null && chart.x.length > 0) { u.setLegend({ idx: last }); }
        }]
      },
      plugins: (chart.marks.length ? [marksPlugin(chart.marks)] : [])
        .concat(chart.x_kind === "key" ? [barsPlugin(chart.series)] : [])
    };
    if (chart.x.length === 0) {
      box.textContent = chart.title + ": no data (no sample)";
      box.className += " empty";
      return;
    }
    var plot = new uPlot(options, data, box);
    plot.setLegend({ idx: last });
  });
})();
