// Report pages: read the JSON API and draw. Plain browser script, no build step, no CDN.
// Every figure drawn here is one the API published; this file adds words, units and order only.
(function () {
  'use strict';
  var HOUR = 3600000;
  var hours = function (ms) {
    return ms / HOUR;
  };
  var fmtHours = function (ms) {
    var h = ms / HOUR;
    return (h >= 100 ? Math.round(h).toLocaleString('en') : h.toFixed(1)) + ' h';
  };
  var pct = function (x) {
    return x === null || x === undefined ? '–' : Math.round(x * 100) + ' %';
  };
  var dayFormat = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });
  var shortDay = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
  var dayLabel = function (day) {
    return dayFormat.format(new Date(day + 'T00:00:00Z'));
  };
  var weekLabel = function (day) {
    return 'Week of ' + shortDay.format(new Date(day + 'T00:00:00Z'));
  };
  var addDays = function (day, n) {
    return new Date(Date.parse(day + 'T00:00:00Z') + n * 86400000).toISOString().slice(0, 10);
  };
  var qs = function (params) {
    return Object.keys(params)
      .filter(function (k) {
        return params[k] !== undefined && params[k] !== null && params[k] !== '';
      })
      .map(function (k) {
        return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]);
      })
      .join('&');
  };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    });
    return node;
  }
  var link = function (href, text) {
    return el('a', { href: href }, [text]);
  };
  function card(label, value, sub) {
    return el('div', { class: 'card' }, [
      el('div', { class: 'label' }, [label]),
      el('div', { class: 'value' }, [value]),
      sub ? el('div', { class: 'sub' }, [sub]) : null,
    ]);
  }
  function panel(title, children) {
    return el('section', { class: 'panel' }, [el('h2', {}, [title])].concat(children));
  }
  function notice(text, kind) {
    return el('p', { class: 'notice' + (kind ? ' ' + kind : ''), role: kind === 'error' ? 'alert' : 'status' }, [text]);
  }

  /**
   * A table whose column headers sort it (click or Enter on the header's button). Each cell is
   * { text, sort } or a plain string; `sort` orders numbers as numbers and empty cells last.
   */
  function sortableTable(caption, columns, rows, footer) {
    var tbody = el('tbody', {}, []);
    var cellOf = function (c) {
      return c !== null && typeof c === 'object' && !(c instanceof Node) ? c : { text: c, sort: c instanceof Node ? c.textContent : c };
    };
    var data = rows.map(function (r) {
      return r.map(cellOf);
    });
    var ths = columns.map(function (col, i) {
      var button = el('button', { type: 'button', class: 'sort' }, [col.label]);
      var th = el('th', { scope: 'col', class: col.numeric ? 'num' : '', 'aria-sort': 'none' }, [button]);
      button.addEventListener('click', function () {
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        ths.forEach(function (other) {
          other.setAttribute('aria-sort', 'none');
        });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        data.sort(function (a, b) {
          var x = a[i].sort,
            y = b[i].sort;
          if (x === y) return 0;
          if (x === null || x === undefined || x === '') return 1;
          if (y === null || y === undefined || y === '') return -1;
          var order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
          return ascending ? order : -order;
        });
        draw();
      });
      return th;
    });
    function draw() {
      tbody.replaceChildren.apply(
        tbody,
        data.map(function (r) {
          return el(
            'tr',
            {},
            r.map(function (c, i) {
              return el('td', { class: (columns[i].numeric ? 'num' : '') + (c.cls ? ' ' + c.cls : '') }, [c.text]);
            }),
          );
        }),
      );
    }
    draw();
    // Totals (the whole organisation, people without a team) stay below the sorted rows.
    var tfoot = footer
      ? el(
          'tfoot',
          {},
          footer.map(function (r) {
            return el(
              'tr',
              {},
              r.map(cellOf).map(function (c, i) {
                return el('td', { class: columns[i].numeric ? 'num' : '' }, [c.text]);
              }),
            );
          }),
        )
      : null;
    return el('div', { class: 'table-wrap' }, [
      el('table', { class: 'sortable' }, [
        el('caption', {}, [caption, el('span', { class: 'muted noprint' }, [' (select a column heading to sort)'])]),
        el('thead', {}, [el('tr', {}, ths)]),
        tbody,
        tfoot,
      ]),
    ]);
  }

  /**
   * Bars on a category axis (one slot per day or week, so bars sit on their own label and the
   * first and last are whole), hours from zero, active and idle stacked (idle drawn on top of
   * active). The legend names the series; the readout under the chart gives a slot's figures
   * in words on hover or keyboard focus, and the table below the chart has them all.
   */
  function barChart(target, spec) {
    var max = 0;
    spec.series.forEach(function (s) {
      (s.drawn || s.values).forEach(function (v) {
        if (v !== null && v > max) max = v;
      });
    });
    var top = max > 0 ? max * 1.1 : 1;
    var box = el('div', { class: 'chart', role: 'img', 'aria-label': spec.summary + ' (vertical axis: 0 h to ' + Math.ceil(top) + ' h)' });
    var readout = el('p', { class: 'readout muted noprint', 'aria-hidden': 'true' }, [spec.hint]);
    target.append(box, readout);
    if (typeof uPlot === 'undefined' || spec.labels.length === 0) return;
    var n = spec.labels.length;
    var xs = spec.labels.map(function (_, i) {
      return i;
    });
    var step = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(Math.max(280, box.clientWidth) / 70))));
    var bars = uPlot.paths.bars({ size: [0.7, 48] });
    var opts = {
      width: Math.max(280, box.clientWidth - 8),
      height: 240,
      legend: { live: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: {
        x: { time: false, range: [-0.5, n - 0.5] },
        y: {
          range: function () {
            return [0, top];
          },
        },
      },
      axes: [
        {
          splits: function () {
            return xs.filter(function (i) {
              return i % step === 0;
            });
          },
          values: function (u, splits) {
            return splits.map(function (i) {
              return spec.ticks[i] || '';
            });
          },
          gap: 4,
        },
        {
          label: 'hours',
          size: 56,
          values: function (u, splits) {
            return splits.map(function (v) {
              return v + ' h';
            });
          },
        },
      ],
      series: [{ label: spec.slotName }].concat(
        spec.series.map(function (s) {
          return s.line
            ? { label: s.label, stroke: s.color, width: 2, dash: [6, 4], points: { show: true, size: 6 } }
            : { label: s.label, stroke: s.color, fill: s.color, width: 0, paths: bars };
        }),
      ),
      hooks: {
        setCursor: [
          function (u) {
            var i = u.cursor.idx;
            readout.textContent = i === null || i === undefined ? spec.hint : spec.describe(i);
          },
        ],
      },
    };
    var plot = new uPlot(
      opts,
      [xs].concat(
        spec.series.map(function (s) {
          return s.drawn || s.values;
        }),
      ),
      box,
    );
    // The chart follows its box: a window made narrower or a phone turned redraws it at the new
    // width, instead of sticking out of the page at the width it was first drawn.
    if (typeof ResizeObserver !== 'undefined') {
      var drawnWidth = opts.width;
      new ResizeObserver(function () {
        var width = Math.max(280, box.clientWidth - 8);
        if (width === drawnWidth) return;
        drawnWidth = width;
        plot.setSize({ width: width, height: opts.height });
      }).observe(box);
    }
  }

  /** Active and idle per slot, stacked: the idle series is drawn as active + idle, behind active. */
  /** Days of a week inside the range and up to today: fewer than 7 makes it a partial week. */
  function daysInRange(range) {
    return function (w) {
      var n = 0;
      for (var i = 0; i < 7; i++) {
        var d = addDays(w.week, i);
        if (d >= range.from && d <= range.to && d <= range.today) n++;
      }
      return n;
    };
  }

  /** Active hours per week from zero, partial weeks drawn lighter, each bar described in words. */
  function weeklyChart(target, weeks, daysIn, spec) {
    var active = function (whole) {
      return weeks.map(function (w) {
        return w.figures && (daysIn(w) === 7) === whole ? hours(w.figures.activeMs) : null;
      });
    };
    barChart(target, {
      summary: spec.summary,
      hint: spec.hint,
      slotName: 'Week',
      labels: weeks.map(function (w) {
        return w.week;
      }),
      ticks: weeks.map(function (w) {
        return shortDay.format(new Date(w.week + 'T00:00:00Z')) + (daysIn(w) < 7 ? '*' : '');
      }),
      series: [
        { label: 'Active, whole week (h)', color: spec.colors[0], values: active(true) },
        { label: 'Active, partial week (h)', color: spec.colors[1], values: active(false) },
      ],
      describe: function (i) {
        var w = weeks[i];
        var n = daysIn(w);
        return (
          weekLabel(w.week) +
          (n < 7 ? ' (partial: ' + n + ' of 7 days)' : '') +
          ': ' +
          (w.figures ? 'active ' + fmtHours(w.figures.activeMs) + ', ' + w.people + ' people' : w.hidden.explanation)
        );
      },
    });
  }

  function stacked(active, idle) {
    return active.map(function (a, i) {
      return a === null ? null : a + (idle[i] || 0);
    });
  }

  /**
   * A session that ended while the page was open: to the sign-in page, which comes back to this
   * very page with its filters (they are all in the query). The report is never drawn, so the
   * promise never settles and no error notice shows under a header that still names the person.
   */
  function signInAgain() {
    var here = location.pathname + location.search;
    location.assign('/sign-in?next=' + encodeURIComponent(here) + '&why=expired');
    return new Promise(function () {});
  }

  async function getJson(url) {
    var res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    if (res.status === 401) return signInAgain();
    var body = await res.json();
    if (!res.ok) throw new Error((body && body.error && body.error.message) || 'Request failed (' + res.status + ')');
    return body;
  }
  function failed(root, err) {
    root.replaceChildren(notice(err.message, 'error'));
  }

  /** Why a day has no bar, in the words the table uses. */
  function dayState(d, today) {
    if (d.day > today) return 'Not yet: after today';
    if (d.state === 'hidden') return d.hidden.explanation.split('. ')[0] + '.';
    if (d.day === today) return d.state === 'no_activity' ? 'Today, in progress: nothing yet' : 'Today, in progress';
    return d.state === 'no_activity' ? 'No activity recorded' : '';
  }

  /** The range itself, stated, and why a report is empty when it is. */
  function emptyNotice(s, what) {
    if (s.range.from > s.range.today) {
      return notice('This range starts after today (' + s.range.today + '): nothing can have been recorded yet. Choose a range up to today.');
    }
    return notice('No activity was recorded for ' + what + ' from ' + s.range.from + ' to ' + s.range.to + '.');
  }

  function delta(now, before, unit) {
    if (before === null || before === undefined || now === null || now === undefined) return null;
    if (unit === 'points') {
      var d = Math.round((now - before) * 100);
      return (d > 0 ? '+' : d < 0 ? '−' : '±') + Math.abs(d) + ' points vs previous (' + pct(before) + ')';
    }
    if (before === 0) return null;
    var r = Math.round(((now - before) / before) * 100);
    return (r > 0 ? '+' : r < 0 ? '−' : '±') + Math.abs(r) + ' % vs previous (' + fmtHours(before) + ')';
  }

  async function teamReport(root) {
    var team = root.dataset.team,
      from = root.dataset.from,
      to = root.dataset.to,
      compare = root.dataset.compare === 'previous';
    var q = qs({ teamId: team, from: from, to: to });
    var printButton = document.getElementById('print');
    if (printButton)
      printButton.addEventListener('click', function () {
        window.print();
      });
    try {
      var results = await Promise.all([getJson('/api/reports/team-summary?' + q), getJson('/api/reports/team-trend?' + q)]);
      var s = results[0],
        trend = results[1];
      var prev = null;
      if (compare && s.previous)
        prev = await getJson('/api/reports/team-summary?' + qs({ teamId: team, from: s.previous.range.from, to: s.previous.range.to }));
      root.replaceChildren();
      root.append(el('h2', {}, [s.team.name + ': ' + s.range.from + ' to ' + s.range.to + ' (' + s.range.timeZone + ')']));
      var here = function (path, extra) {
        return path + '?' + qs(Object.assign({ teamId: team, from: from, to: to }, extra || {}));
      };
      var people = el('p', { class: 'noprint' }, [
        link(here('/reports/team/people'), 'People in this team'),
        ' · ',
        link(here('/reports/team/apps'), 'All apps'),
      ]);
      if (s.status === 'hidden') {
        root.append(notice(s.hidden.explanation), people);
        return;
      }
      if (s.status === 'no_activity') {
        root.append(emptyNotice(s, 'this team'), people);
        return;
      }
      var before = s.previous && s.previous.status === 'shown' ? s.previous : null;
      var pp = s.perPerson;
      root.append(
        panel('What changed', [
          el('p', { class: 'muted' }, [
            'This period against the previous ' +
              s.range.days +
              ' days (' +
              s.previous.range.from +
              ' to ' +
              s.previous.range.to +
              '). Figures count only days with at least ' +
              s.minGroupSize +
              ' people active.',
          ]),
          el('div', { class: 'cards' }, [
            card('People active', String(s.people), before ? 'previous: ' + before.people : null),
            card(
              'Active per person per day',
              fmtHours(pp.activeMsPerPersonDay),
              before ? delta(pp.activeMsPerPersonDay, before.perPerson.activeMsPerPersonDay) : null,
            ),
            card('Productive share', pct(s.totals.productiveShare), before ? delta(s.totals.productiveShare, before.totals.productiveShare, 'points') : null),
            card('Meetings', pct(s.meetings.share) + ' of active', before ? delta(s.meetings.share, before.meetings.share, 'points') : null),
            card(
              'Focus per person per day',
              fmtHours(s.focus.msPerPersonDay) + ', ' + pct(s.focus.share) + ' of active',
              before ? delta(s.focus.share, before.focus.share, 'points') : null,
            ),
            card('After hours', pct(s.afterHours.share) + ' of active', before ? delta(s.afterHours.share, before.afterHours.share, 'points') : null),
            card('Active time, all people', fmtHours(s.totals.activeMs), 'idle ' + fmtHours(s.totals.idleMs)),
          ]),
          el('p', { class: 'muted', id: 'focus-rule' }, [
            'Focus: stretches of at least 30 minutes of active time in apps counted productive, joined across gaps under 2 minutes; idle time or any other app ends a stretch. ' +
              'After hours: active time outside ' +
              s.afterHours.outside +
              ', the organisation\u2019s working week, in its time zone (' +
              s.range.timeZone +
              ').',
          ]),
          el(
            'ul',
            { class: 'highlights' },
            s.highlights.map(function (h) {
              return el('li', {}, [h]);
            }),
          ),
        ]),
      );
      s.notes.forEach(function (n) {
        root.append(notice(n));
      });

      var daily = panel('Per day', []);
      root.append(daily);
      var today = s.range.today;
      var active = s.days.map(function (d) {
        return d.figures && d.state === 'shown' ? hours(d.figures.activeMs) : null;
      });
      var idle = s.days.map(function (d) {
        return d.figures && d.state === 'shown' ? hours(d.figures.idleMs) : null;
      });
      var series = [
        { label: 'Idle (h, on top)', color: '#b7bfcb', values: idle, drawn: stacked(active, idle) },
        { label: 'Active (h)', color: '#1f5fbf', values: active },
      ];
      var prevDays = prev && prev.status === 'shown' ? prev.days : null;
      if (prevDays) {
        series.push({
          label: 'Active, previous period (h)',
          color: '#c0501f',
          line: true,
          values: s.days.map(function (_, i) {
            var d = prevDays[i];
            return d && d.state === 'shown' ? hours(d.figures.activeMs) : null;
          }),
        });
      }
      barChart(daily, {
        summary: 'Active and idle hours per day, stacked, from zero; the table below has the same figures',
        hint: 'Point at a bar for its day and figures; the table below lists every day.',
        slotName: 'Day',
        labels: s.days.map(function (d) {
          return d.day;
        }),
        ticks: s.days.map(function (d) {
          return shortDay.format(new Date(d.day + 'T00:00:00Z'));
        }),
        series: series,
        describe: function (i) {
          var d = s.days[i];
          var text = dayLabel(d.day) + ': ';
          text += d.state === 'shown' ? 'active ' + fmtHours(d.figures.activeMs) + ', idle ' + fmtHours(d.figures.idleMs) : dayState(d, today);
          if (prevDays && prevDays[i])
            text +=
              '; previous period (' +
              dayLabel(prevDays[i].day) +
              '): ' +
              (prevDays[i].state === 'shown' ? 'active ' + fmtHours(prevDays[i].figures.activeMs) : dayState(prevDays[i], today));
          return text;
        },
      });
      daily.append(
        sortableTable(
          'Per day',
          [{ label: 'Day' }, { label: 'Active', numeric: true }, { label: 'Idle', numeric: true }, { label: 'Productive', numeric: true }, { label: 'Note' }],
          s.days.map(function (d) {
            var shown = d.state === 'shown';
            return [
              { text: dayLabel(d.day) + ' (' + d.day + ')', sort: d.day },
              { text: shown ? fmtHours(d.figures.activeMs) : '—', sort: shown ? d.figures.activeMs : null },
              { text: shown ? fmtHours(d.figures.idleMs) : '—', sort: shown ? d.figures.idleMs : null },
              { text: shown ? pct(d.figures.productiveShare) : '—', sort: shown ? d.figures.productiveShare : null },
              { text: dayState(d, today), sort: dayState(d, today), cls: d.state === 'hidden' ? 'hidden-day' : '' },
            ];
          }),
        ),
      );
      if (prev && prev.status === 'shown') {
        daily.append(
          sortableTable(
            'This period and the previous one',
            [{ label: 'Figure' }, { label: 'This period', numeric: true }, { label: 'Previous period', numeric: true }],
            [
              ['People active', String(s.people), String(prev.people)],
              ['Active per person per day', fmtHours(s.perPerson.activeMsPerPersonDay), fmtHours(prev.perPerson.activeMsPerPersonDay)],
              ['Idle per person per day', fmtHours(s.perPerson.idleMsPerPersonDay), fmtHours(prev.perPerson.idleMsPerPersonDay)],
              ['Productive share', pct(s.totals.productiveShare), pct(prev.totals.productiveShare)],
              ['Meetings share', pct(s.meetings.share), pct(prev.meetings.share)],
              ['Focus per person per day', fmtHours(s.focus.msPerPersonDay), fmtHours(prev.focus.msPerPersonDay)],
              ['Focus share', pct(s.focus.share), pct(prev.focus.share)],
              ['After-hours share', pct(s.afterHours.share), pct(prev.afterHours.share)],
              ['Active time, all people', fmtHours(s.totals.activeMs), fmtHours(prev.totals.activeMs)],
            ],
          ),
        );
      } else if (compare)
        daily.append(notice('No comparison: the previous period (' + s.previous.range.from + ' to ' + s.previous.range.to + ') has no figures to show.'));

      var cats = sortableTable(
        'Categories',
        [{ label: 'Category' }, { label: 'Counted as' }, { label: 'Active', numeric: true }, { label: 'Share', numeric: true }],
        s.categories.map(function (c) {
          return [
            { text: link(here('/reports/team/apps', { category: c.category }), c.category), sort: c.category },
            c.productivity,
            { text: fmtHours(c.activeMs), sort: c.activeMs },
            { text: pct(c.share), sort: c.share },
          ];
        }),
      );
      var apps = sortableTable(
        'Top apps',
        [{ label: 'App' }, { label: 'Category' }, { label: 'Active', numeric: true }, { label: 'Share', numeric: true }],
        s.topApps
          .map(function (a) {
            return [
              { text: link(here('/reports/team/apps', { category: a.category, app: a.app }), a.app), sort: a.app },
              a.category,
              { text: fmtHours(a.activeMs), sort: a.activeMs },
              { text: pct(a.share), sort: a.share },
            ];
          })
          .concat(s.otherApps ? [['Other (' + s.otherApps.apps + ' apps)', '', { text: fmtHours(s.otherApps.activeMs), sort: s.otherApps.activeMs }, '']] : []),
      );
      root.append(el('div', { class: 'grid2' }, [panel('Categories', [cats]), panel('Top apps', [apps])]), people);

      var weekly = panel('Weekly trend', []);
      root.append(weekly);
      var weeks = trend.weeks;
      var daysIn = daysInRange(s.range);
      weeklyChart(weekly, weeks, daysIn, {
        summary: 'Active hours per week from zero; partial weeks drawn lighter; the table below has the same figures',
        hint: 'Point at a bar for its week; lighter bars are partial weeks (only some of their days are in the range).',
        colors: ['#1d7a46', '#8cc7a3'],
      });
      weekly.append(
        el('p', { class: 'muted' }, [
          '* A partial week: only ' + 'its days inside the range and up to today count, so it is not comparable with a whole week.',
        ]),
      );
      weekly.append(
        sortableTable(
          'Per week',
          [
            { label: 'Week' },
            { label: 'Days counted', numeric: true },
            { label: 'People', numeric: true },
            { label: 'Active', numeric: true },
            { label: 'Productive', numeric: true },
            { label: 'Note' },
          ],
          weeks.map(function (w) {
            var n = daysIn(w);
            return [
              { text: weekLabel(w.week), sort: w.week },
              { text: n + ' of 7', sort: n },
              { text: w.figures ? String(w.people) : '—', sort: w.figures ? w.people : null },
              { text: w.figures ? fmtHours(w.figures.activeMs) : '—', sort: w.figures ? w.figures.activeMs : null },
              { text: w.figures ? pct(w.figures.productiveShare) : '—', sort: w.figures ? w.figures.productiveShare : null },
              w.figures
                ? w.leftOut.length > 0
                  ? w.leftOut.length + ' hidden day(s) left out'
                  : n < 7
                    ? 'Partial week'
                    : ''
                : w.hidden.explanation.split('. ')[0] + '.',
            ];
          }),
        ),
      );
    } catch (err) {
      failed(root, err);
    }
  }

  async function appsReport(root) {
    var team = root.dataset.team,
      category = root.dataset.category,
      app = root.dataset.app,
      from = root.dataset.from,
      to = root.dataset.to;
    try {
      var r = await getJson('/api/reports/team-apps?' + qs({ teamId: team, category: category, from: from, to: to }));
      root.replaceChildren();
      if (r.status === 'hidden') return root.append(notice(r.hidden.explanation));
      if (r.status === 'no_activity') return root.append(emptyNotice(r, 'this team'));
      var apps = app
        ? r.apps.filter(function (a) {
            return a.app === app;
          })
        : r.apps;
      root.append(
        el('p', { class: 'muted' }, [
          'Only apps used by at least ' +
            r.minGroupSize +
            ' people on a day, on days with at least ' +
            r.minGroupSize +
            ' people active; the rest is counted under other apps on the team report.',
        ]),
      );
      if (apps.length === 0)
        return root.append(
          notice(
            app
              ? app + ' has no day with ' + r.minGroupSize + ' or more people using it in this range.'
              : 'No app of this category was used by ' + r.minGroupSize + ' or more people on any day of this range.',
          ),
        );
      if (!app) {
        root.append(
          panel(category ? 'Apps in ' + category : 'Apps', [
            sortableTable(
              'Apps',
              [
                { label: 'App' },
                { label: 'Category' },
                { label: 'Counted as' },
                { label: 'Active', numeric: true },
                { label: 'Share of team time', numeric: true },
              ],
              apps.map(function (a) {
                return [
                  { text: link('/reports/team/apps?' + qs({ teamId: team, category: a.category, app: a.app, from: from, to: to }), a.app), sort: a.app },
                  a.category,
                  a.productivity,
                  { text: fmtHours(a.activeMs), sort: a.activeMs },
                  { text: pct(a.share), sort: a.share },
                ];
              }),
            ),
          ]),
        );
        if (r.otherMs !== null)
          root.append(notice('Other apps (each used by fewer than ' + r.minGroupSize + ' people on a day): ' + fmtHours(r.otherMs) + '.'));
        return;
      }
      apps.forEach(function (a) {
        var box = panel(a.app + ' per day (' + a.category + ', counted ' + a.productivity + ')', [
          el('div', { class: 'cards' }, [card('Active', fmtHours(a.activeMs)), card('Share of team time', pct(a.share))]),
        ]);
        root.append(box);
        barChart(box, {
          summary: 'Active hours in ' + a.app + ' per day, from zero; the table below has the same figures',
          hint: 'Point at a bar for its day; days without a bar had fewer than ' + r.minGroupSize + ' people in the app, or none.',
          slotName: 'Day',
          labels: a.days.map(function (d) {
            return d.day;
          }),
          ticks: a.days.map(function (d) {
            return shortDay.format(new Date(d.day + 'T00:00:00Z'));
          }),
          series: [
            {
              label: 'Active (h)',
              color: '#1f5fbf',
              values: a.days.map(function (d) {
                return d.activeMs === null ? null : hours(d.activeMs);
              }),
            },
          ],
          describe: function (i) {
            var d = a.days[i];
            return (
              dayLabel(d.day) +
              ': ' +
              (d.activeMs === null ? 'not shown (fewer than ' + r.minGroupSize + ' people, or none)' : 'active ' + fmtHours(d.activeMs))
            );
          },
        });
        box.append(
          sortableTable(
            a.app + ' per day',
            [{ label: 'Day' }, { label: 'Active', numeric: true }],
            a.days.map(function (d) {
              return [
                { text: dayLabel(d.day) + ' (' + d.day + ')', sort: d.day },
                { text: d.activeMs === null ? 'not shown: fewer than ' + r.minGroupSize + ' people, or none' : fmtHours(d.activeMs), sort: d.activeMs },
              ];
            }),
          ),
        );
      });
    } catch (err) {
      failed(root, err);
    }
  }

  async function peopleReport(root) {
    var team = root.dataset.team;
    try {
      var r = await getJson('/api/reports/team-people?' + qs({ teamId: team }));
      root.replaceChildren(notice(r.explanation));
      if (r.people.length === 0) return;
      root.append(
        panel('People you may open', [
          el(
            'ul',
            { class: 'people' },
            r.people.map(function (p) {
              return el('li', {}, [link('/reports/person?' + qs({ userId: p.id, teamId: team, from: root.dataset.from, to: root.dataset.to }), p.name)]);
            }),
          ),
        ]),
      );
    } catch (err) {
      failed(root, err);
    }
  }

  async function personReport(root) {
    var user = root.dataset.user,
      team = root.dataset.team,
      from = root.dataset.from,
      to = root.dataset.to;
    try {
      var p = await getJson('/api/reports/person?' + qs({ userId: user, from: from, to: to }));
      root.replaceChildren();
      var oneDay = from === to;
      root.append(
        el('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, [
          team ? link('/reports/team/people?' + qs({ teamId: team, from: from, to: to }), 'People') : null,
          team ? ' › ' : null,
          oneDay ? link('/reports/person?' + qs({ userId: user, teamId: team, from: addDays(from, -27), to: to }), p.person.name) : p.person.name,
          oneDay ? ' › ' + dayLabel(from) : null,
        ]),
        el('h2', {}, [p.person.name + ': ' + (oneDay ? dayLabel(from) + ' (' + from + ')' : p.range.from + ' to ' + p.range.to)]),
        el('p', { class: 'muted' }, [
          'Shown because the policy allows individual views and ' +
            p.person.name +
            ' granted app usage; this view is recorded in the audit log and visible to them.',
        ]),
      );
      if (p.days.length === 0) return root.append(notice('No activity recorded for ' + p.person.name + ' in this range.'));
      root.append(
        el('div', { class: 'cards' }, [
          card('Active', fmtHours(p.totals.activeMs)),
          card('Idle', fmtHours(p.totals.idleMs)),
          card('Productive share', pct(p.totals.productiveShare)),
          card('Days with activity', String(p.days.length)),
        ]),
      );
      if (!oneDay) {
        var daily = panel('Per day', []);
        root.append(daily);
        var a = p.days.map(function (d) {
          return hours(d.figures.activeMs);
        });
        var i = p.days.map(function (d) {
          return hours(d.figures.idleMs);
        });
        barChart(daily, {
          summary: 'Active and idle hours per day, stacked, from zero; the table below has the same figures',
          hint: 'Point at a bar for its day; the table below links each day.',
          slotName: 'Day',
          labels: p.days.map(function (d) {
            return d.day;
          }),
          ticks: p.days.map(function (d) {
            return shortDay.format(new Date(d.day + 'T00:00:00Z'));
          }),
          series: [
            { label: 'Idle (h, on top)', color: '#b7bfcb', values: i, drawn: stacked(a, i) },
            { label: 'Active (h)', color: '#1f5fbf', values: a },
          ],
          describe: function (k) {
            var d = p.days[k];
            return dayLabel(d.day) + ': active ' + fmtHours(d.figures.activeMs) + ', idle ' + fmtHours(d.figures.idleMs);
          },
        });
        daily.append(
          sortableTable(
            'Per day',
            [{ label: 'Day' }, { label: 'Active', numeric: true }, { label: 'Idle', numeric: true }, { label: 'Productive', numeric: true }],
            p.days.map(function (d) {
              return [
                {
                  text: link('/reports/person?' + qs({ userId: user, teamId: team, from: d.day, to: d.day }), dayLabel(d.day) + ' (' + d.day + ')'),
                  sort: d.day,
                },
                { text: fmtHours(d.figures.activeMs), sort: d.figures.activeMs },
                { text: fmtHours(d.figures.idleMs), sort: d.figures.idleMs },
                { text: pct(d.figures.productiveShare), sort: d.figures.productiveShare },
              ];
            }),
          ),
        );
      }
      root.append(
        panel(oneDay ? 'Apps that day' : 'Apps', [
          sortableTable(
            'Apps',
            [{ label: 'App' }, { label: 'Category' }, { label: 'Active', numeric: true }, { label: 'Idle', numeric: true }],
            p.apps.map(function (x) {
              return [x.app, x.category, { text: fmtHours(x.activeMs), sort: x.activeMs }, { text: fmtHours(x.idleMs), sort: x.idleMs }];
            }),
          ),
        ]),
      );
    } catch (err) {
      failed(root, err);
    }
  }

  async function orgReport(root) {
    var from = root.dataset.from,
      to = root.dataset.to;
    var q = qs({ from: from, to: to });
    try {
      var results = await Promise.all([getJson('/api/reports/org-trend?' + q), getJson('/api/reports/team-comparison?' + q)]);
      var trend = results[0],
        cmp = results[1];
      root.replaceChildren();
      if (cmp.highlights.length > 0) {
        root.append(
          panel('What stands out', [
            el(
              'ul',
              { class: 'highlights' },
              cmp.highlights.map(function (h) {
                return el('li', {}, [h]);
              }),
            ),
          ]),
        );
      }
      var shown = cmp.teams.filter(function (t) {
        return t.figures && t.figures.productiveShare !== null;
      });
      var byShare = shown.slice().sort(function (a, b) {
        return a.figures.productiveShare - b.figures.productiveShare || a.name.localeCompare(b.name);
      });
      var bars = panel('Productive share by team', [
        el('p', { class: 'muted' }, ['Lowest first; each bar is the team’s productive share of its active time, from 0 to 100 %.']),
      ]);
      var list = el('ol', { class: 'hbars' }, []);
      byShare.forEach(function (t) {
        var fill = el('span', { class: 'fill' }, []);
        fill.style.width = Math.round(t.figures.productiveShare * 100) + '%';
        list.append(
          el('li', {}, [
            link('/reports/team?' + qs({ teamId: t.id, from: from, to: to }), t.name),
            el('span', { class: 'track', 'aria-hidden': 'true' }, [fill]),
            el('span', { class: 'num' }, [pct(t.figures.productiveShare)]),
          ]),
        );
      });
      bars.append(list);
      root.append(bars);

      var panelTrend = panel('Org-wide trend', []);
      root.append(panelTrend);
      var daysIn = daysInRange(trend.range);
      var weeks = trend.weeks;
      weeklyChart(panelTrend, weeks, daysIn, {
        summary: 'Active hours per week across the organisation, from zero; partial weeks drawn lighter',
        hint: 'Point at a bar for its week; lighter bars are partial weeks.',
        colors: ['#1f5fbf', '#8fb0e3'],
      });
      panelTrend.append(el('p', { class: 'muted' }, ['* A partial week: only its days inside the range and up to today count.']));

      // People without a team are a group like any other, and the org total is every group's shown days.
      var rowOf = function (t, href) {
        var f = t.figures;
        var name = href ? { text: link(href, t.name), sort: t.name } : t.name;
        if (!f)
          return [
            name,
            { text: t.hidden ? t.hidden.explanation.split('. ')[0] + '.' : 'no data', sort: null },
            { text: '—', sort: null },
            { text: '—', sort: null },
            { text: '—', sort: null },
            '',
          ];
        return [
          name,
          { text: String(t.people), sort: t.people },
          { text: fmtHours(f.activeMs), sort: f.activeMs },
          { text: t.people > 0 ? fmtHours(f.activeMs / t.people) : '—', sort: t.people > 0 ? f.activeMs / t.people : null },
          { text: pct(f.productiveShare), sort: f.productiveShare },
          (t.categories || [])
            .slice(0, 3)
            .map(function (c) {
              return c.category + ' ' + pct(c.share);
            })
            .join(', '),
        ];
      };
      var rows = cmp.teams.map(function (t) {
        return rowOf(t, '/reports/team?' + qs({ teamId: t.id, from: from, to: to }));
      });
      var totals = [rowOf(Object.assign({ name: 'No team' }, cmp.noTeam)), rowOf(Object.assign({ name: 'Whole organisation' }, cmp.org))];
      var compared = panel('Teams compared', [
        sortableTable(
          'Teams',
          [
            { label: 'Team' },
            { label: 'People', numeric: true },
            { label: 'Active', numeric: true },
            { label: 'Active per person', numeric: true },
            { label: 'Productive', numeric: true },
            { label: 'Top categories' },
          ],
          rows,
          totals,
        ),
      ]);
      if (cmp.leftOut.length > 0) {
        compared.append(
          notice(
            cmp.leftOut.length +
              ' team-days with fewer than ' +
              cmp.minGroupSize +
              ' people active (the policy’s minimum group size) are hidden and left out of every figure here, the organisation total included.',
          ),
        );
      }
      root.append(compared);
    } catch (err) {
      failed(root, err);
    }
  }

  // Large exports (the org's, or a team's over more than a month) are background jobs: ask for
  // one, show the bytes written, then the link.
  function orgExport(root) {
    var button = root.querySelector('button');
    var status = root.querySelector('[role="status"]');
    var mb = function (bytes) {
      return (bytes / 1048576).toFixed(1) + ' MB';
    };
    var show = function (job) {
      if (job.state === 'done' && job.downloadUrl) {
        status.replaceChildren(
          link(job.downloadUrl, 'Download ' + (job.filename || 'the export') + ' (' + mb(job.bytes) + ')'),
          document.createTextNode(' · only you can download it, until ' + new Date(job.expiresAt).toLocaleString('en-GB')),
        );
        return true;
      }
      if (job.state === 'failed' || job.state === 'expired') {
        status.textContent = job.state === 'failed' ? 'The export failed; ask for it again.' : 'The export expired; ask for it again.';
        button.disabled = false;
        return true;
      }
      status.textContent = job.state === 'queued' ? 'Waiting for a worker…' : 'Preparing… ' + mb(job.bytes) + ' written';
      return false;
    };
    button.addEventListener('click', async function () {
      button.disabled = true;
      status.textContent = 'Asking for the export…';
      try {
        var me = await fetch('/api/me', { credentials: 'same-origin' }).then(function (r) {
          return r.json();
        });
        var asked = await fetch('/api/reports/exports', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken },
          body: JSON.stringify({ teamId: root.dataset.teamId, level: root.dataset.level || 'person', from: root.dataset.from, to: root.dataset.to }),
        });
        var job = await asked.json();
        if (!asked.ok) throw new Error(job.message || 'The export was refused');
        while (!show(job)) {
          await new Promise(function (resolve) {
            setTimeout(resolve, 1500);
          });
          job = await fetch('/api/reports/exports/' + job.id, { credentials: 'same-origin' }).then(function (r) {
            return r.json();
          });
        }
      } catch (err) {
        status.textContent = err.message;
        button.disabled = false;
      }
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var pages = {
      report: teamReport,
      'apps-report': appsReport,
      'people-report': peopleReport,
      'person-report': personReport,
      'org-report': orgReport,
      'org-export': orgExport,
      'team-export': orgExport,
    };
    Object.keys(pages).forEach(function (id) {
      var root = document.getElementById(id);
      if (root) pages[id](root);
    });
  });
})();
