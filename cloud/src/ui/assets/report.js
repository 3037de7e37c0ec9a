// Report pages: read the JSON API and draw. Plain browser script, no build step, no CDN.
(function () {
  'use strict';
  var hours = function (ms) {
    return ms / 3600000;
  };
  var fmtHours = function (ms) {
    var h = ms / 3600000;
    return h >= 100 ? Math.round(h) + ' h' : h.toFixed(1) + ' h';
  };
  var pct = function (x) {
    return x === null || x === undefined ? '–' : Math.round(x * 100) + ' %';
  };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    });
    return node;
  }
  function card(label, value) {
    return el('div', { class: 'card' }, [el('div', { class: 'label' }, [label]), el('div', { class: 'value' }, [value])]);
  }
  function table(caption, head, rows, numeric) {
    var thead = el('thead', {}, [
      el(
        'tr',
        {},
        head.map(function (h, i) {
          return el('th', { scope: 'col', class: numeric[i] ? 'num' : '' }, [h]);
        }),
      ),
    ]);
    var tbody = el(
      'tbody',
      {},
      rows.map(function (r) {
        return el(
          'tr',
          {},
          r.map(function (c, i) {
            return el('td', { class: numeric[i] ? 'num' : '' }, [c]);
          }),
        );
      }),
    );
    return el('table', {}, [el('caption', { class: 'muted' }, [caption]), thead, tbody]);
  }
  async function getJson(url) {
    var res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    var body = await res.json();
    if (!res.ok) throw new Error((body && body.error && body.error.message) || 'Request failed (' + res.status + ')');
    return body;
  }
  function chart(target, labels, series, title) {
    if (typeof uPlot === 'undefined' || labels.length === 0) return;
    var width = Math.max(280, target.clientWidth - 16);
    var xs = labels.map(function (d) {
      return Date.parse(d + 'T12:00:00Z') / 1000;
    });
    var opts = {
      title: title,
      width: width,
      height: 240,
      tzDate: function (ts) {
        return uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');
      },
      scales: { x: { time: true } },
      axes: [{}, { label: 'hours', size: 50 }],
      series: [{}].concat(
        series.map(function (s) {
          return { label: s.label, stroke: s.color, fill: s.color + '55', width: 2, paths: uPlot.paths.bars({ size: [0.7, 40] }) };
        }),
      ),
    };
    new uPlot(
      opts,
      [xs].concat(
        series.map(function (s) {
          return s.values;
        }),
      ),
      target,
    );
  }
  function hiddenNotice(h) {
    return el('p', { class: 'notice', role: 'status' }, [h.explanation]);
  }

  async function teamReport(root) {
    var team = root.dataset.team,
      from = root.dataset.from,
      to = root.dataset.to;
    var q = 'teamId=' + encodeURIComponent(team) + '&from=' + from + '&to=' + to;
    var exportLink = document.getElementById('export');
    if (exportLink) exportLink.setAttribute('href', '/api/reports/export.csv?' + q);
    var printButton = document.getElementById('print');
    if (printButton)
      printButton.addEventListener('click', function () {
        window.print();
      });
    try {
      var results = await Promise.all([getJson('/api/reports/team-summary?' + q), getJson('/api/reports/team-trend?' + q)]);
      var s = results[0],
        trend = results[1];
      root.replaceChildren();
      root.append(el('h2', {}, [s.team.name + ': ' + s.range.from + ' to ' + s.range.to + ' (' + s.range.timeZone + ')']));
      if (s.hidden) {
        root.append(hiddenNotice(s.hidden));
        return;
      }
      root.append(
        el('div', { class: 'cards' }, [
          card('People', String(s.people)),
          card('Active time', fmtHours(s.totals.activeMs)),
          card('Idle time', fmtHours(s.totals.idleMs)),
          card('Productive share', pct(s.totals.productiveShare)),
        ]),
      );
      s.notes.forEach(function (n) {
        root.append(el('p', { class: 'notice' }, [n]));
      });
      var daily = el('div', { class: 'panel' }, [el('h2', {}, ['Per day'])]);
      var chartBox = el('div', { class: 'chart', role: 'img', 'aria-label': 'Active and idle hours per day; the table below has the same figures' });
      daily.append(chartBox);
      root.append(daily);
      var shown = s.days.filter(function (d) {
        return d.figures;
      });
      chart(
        chartBox,
        shown.map(function (d) {
          return d.day;
        }),
        [
          {
            label: 'Active',
            color: '#1f5fbf',
            values: shown.map(function (d) {
              return hours(d.figures.activeMs);
            }),
          },
          {
            label: 'Idle',
            color: '#9aa4b2',
            values: shown.map(function (d) {
              return hours(d.figures.idleMs);
            }),
          },
        ],
        'Hours per day',
      );
      daily.append(
        table(
          'Per day',
          ['Day', 'Active', 'Idle', 'Productive'],
          s.days.map(function (d) {
            return d.figures ? [d.day, fmtHours(d.figures.activeMs), fmtHours(d.figures.idleMs), pct(d.figures.productiveShare)] : [d.day, 'hidden', '', ''];
          }),
          [false, true, true, true],
        ),
      );
      var apps = table(
        'Top apps',
        ['App', 'Category', 'Active', 'Share'],
        s.topApps
          .map(function (a) {
            return [a.app, a.category, fmtHours(a.activeMs), pct(a.share)];
          })
          .concat(s.otherApps ? [['Other (' + s.otherApps.apps + ' apps)', '', fmtHours(s.otherApps.activeMs), '']] : []),
        [false, false, true, true],
      );
      var cats = table(
        'Categories',
        ['Category', 'Productivity', 'Active', 'Share'],
        s.categories.map(function (c) {
          return [c.category, c.productivity, fmtHours(c.activeMs), pct(c.share)];
        }),
        [false, false, true, true],
      );
      root.append(
        el('div', { class: 'grid2' }, [
          el('div', { class: 'panel' }, [el('h2', {}, ['Top apps']), apps]),
          el('div', { class: 'panel' }, [el('h2', {}, ['Categories']), cats]),
        ]),
      );
      var weekly = el('div', { class: 'panel' }, [el('h2', {}, ['Weekly trend'])]);
      var trendBox = el('div', { class: 'chart', role: 'img', 'aria-label': 'Active hours per week' });
      weekly.append(trendBox);
      root.append(weekly);
      var weeks = trend.weeks.filter(function (w) {
        return w.figures;
      });
      chart(
        trendBox,
        weeks.map(function (w) {
          return w.week;
        }),
        [
          {
            label: 'Active',
            color: '#1d7a46',
            values: weeks.map(function (w) {
              return hours(w.figures.activeMs);
            }),
          },
        ],
        'Active hours per week',
      );
      weekly.append(
        table(
          'Per week',
          ['Week of', 'People', 'Active', 'Productive'],
          trend.weeks.map(function (w) {
            return w.figures ? [w.week, String(w.people), fmtHours(w.figures.activeMs), pct(w.figures.productiveShare)] : [w.week, 'hidden', '', ''];
          }),
          [false, true, true, true],
        ),
      );
    } catch (err) {
      root.replaceChildren(el('p', { class: 'notice error', role: 'alert' }, [err.message]));
    }
  }

  async function orgReport(root) {
    var q = 'from=' + root.dataset.from + '&to=' + root.dataset.to;
    try {
      var results = await Promise.all([getJson('/api/reports/org-trend?' + q), getJson('/api/reports/team-comparison?' + q)]);
      var trend = results[0],
        cmp = results[1];
      root.replaceChildren();
      var panel = el('div', { class: 'panel' }, [el('h2', {}, ['Org-wide trend'])]);
      var box = el('div', { class: 'chart', role: 'img', 'aria-label': 'Active hours per week across the organisation' });
      panel.append(box);
      root.append(panel);
      var weeks = trend.weeks.filter(function (w) {
        return w.figures;
      });
      chart(
        box,
        weeks.map(function (w) {
          return w.week;
        }),
        [
          {
            label: 'Active',
            color: '#1f5fbf',
            values: weeks.map(function (w) {
              return hours(w.figures.activeMs);
            }),
          },
        ],
        'Active hours per week',
      );
      // People without a team are a group like any other, and the org total is every group's shown days.
      var groups = cmp.teams.concat([Object.assign({ name: 'No team' }, cmp.noTeam)], [Object.assign({ name: 'Whole organisation' }, cmp.org)]);
      var rows = groups.map(function (t) {
        return t.figures
          ? [t.name, String(t.people), fmtHours(t.figures.activeMs), pct(t.figures.productiveShare)]
          : [t.name, t.hidden ? 'hidden' : 'no data', '', ''];
      });
      var compared = el('div', { class: 'panel' }, [
        el('h2', {}, ['Teams compared']),
        table('Teams', ['Team', 'People', 'Active', 'Productive'], rows, [false, true, true, true]),
      ]);
      if (cmp.leftOut.length > 0) {
        compared.append(
          el('p', { class: 'notice' }, [
            cmp.leftOut.length +
              ' team-days with fewer people active than the minimum group size (' +
              cmp.minGroupSize +
              ') are hidden and left out of every figure here, the organisation total included.',
          ]),
        );
      }
      root.append(compared);
    } catch (err) {
      root.replaceChildren(el('p', { class: 'notice error', role: 'alert' }, [err.message]));
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    var team = document.getElementById('report');
    if (team) teamReport(team);
    var org = document.getElementById('org-report');
    if (org) orgReport(org);
  });
})();
