import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { chartSummary, hourlyBuckets, niceMax } from "../chart.js";

const HOUR = 3600_000;

describe("chart", () => {
  it("counts enrollments per hour over the last 24 hours", () => {
    const now = Date.UTC(2026, 0, 10, 14, 30);
    const buckets = hourlyBuckets(
      [
        new Date(now - 5 * 60_000).toISOString(), // this hour
        new Date(now - 10 * 60_000).toISOString(), // this hour
        new Date(now - HOUR).toISOString(), // the hour before
        new Date(now - 23 * HOUR).toISOString(), // the oldest bucket
        new Date(now - 25 * HOUR).toISOString(), // too old
        new Date(now + 2 * HOUR).toISOString(), // in the future
        "not a date",
      ],
      { now },
    );
    assert.equal(buckets.length, 24);
    assert.equal(buckets[23].count, 2);
    assert.equal(buckets[22].count, 1);
    assert.equal(buckets[0].count, 1);
    assert.equal(buckets.reduce((n, b) => n + b.count, 0), 4);
    assert.equal(buckets[23].start, Date.UTC(2026, 0, 10, 14));
    assert.equal(buckets[1].start - buckets[0].start, HOUR);
  });

  it("rounds the axis up to 1, 2, 5 × 10^n", () => {
    assert.deepEqual([0, 1, 2, 3, 6, 11, 20, 21, 99, 101].map(niceMax), [1, 1, 2, 5, 10, 20, 20, 50, 100, 200]);
  });

  it("summarises the chart for screen readers", () => {
    assert.equal(chartSummary(hourlyBuckets([], { now: 0 })), "No enrollments in the last 24 hours.");
    const now = Date.UTC(2026, 0, 10, 14, 30);
    assert.match(chartSummary(hourlyBuckets([new Date(now).toISOString()], { now })), /^1 enrollment in the last 24 hours; busiest hour \d\d:00 with 1\.$/);
  });
});

describe("chart from the aggregate endpoint", () => {
  it("reads the server's buckets and counts live enrollments into them", async () => {
    const { bucketsAdd, bucketsFromAnswer } = await import("../chart.js");
    const answer = { hours: 3, buckets: [
      { hour: "2026-01-10T12:00:00Z", count: 1 },
      { hour: "2026-01-10T13:00:00Z", count: 0 },
      { hour: "2026-01-10T14:00:00Z", count: 4 },
    ] };
    const buckets = bucketsFromAnswer(answer);
    assert.deepEqual(buckets.map((b) => b.count), [1, 0, 4]);
    assert.equal(buckets[2].start, Date.UTC(2026, 0, 10, 14));
    const now = Date.UTC(2026, 0, 10, 14, 40);
    bucketsAdd(buckets, new Date(now).toISOString(), { now });
    assert.deepEqual(buckets.map((b) => b.count), [1, 0, 5]);
    // The next hour: the window slides, the oldest hour goes.
    const later = Date.UTC(2026, 0, 10, 15, 5);
    bucketsAdd(buckets, new Date(later).toISOString(), { now: later });
    assert.deepEqual(buckets.map((b) => b.count), [0, 5, 1]);
    assert.equal(buckets[2].start, Date.UTC(2026, 0, 10, 15));
    bucketsAdd(buckets, Number.NaN, { now: later });
    assert.deepEqual(buckets.map((b) => b.count), [0, 5, 1]);
    assert.deepEqual(bucketsFromAnswer(null), []);
  });
});
