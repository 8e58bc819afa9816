import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { cueIndexAt, cueText, parseVtt } from "../vtt.js";

const SAMPLE = `\ufeffWEBVTT - demo captions
Kind: captions

NOTE written by hand
over two lines

STYLE
::cue { color: yellow }

intro
00:00:00.500 --> 00:00:03.000 align:start position:10%
Welcome to the <b>lesson</b>.

00:03.000 --> 00:06.250
<v Ada>Lists &amp; loops,
in one go.</v>

00:00:06.250 --> 00:00:06.250
an empty cue that ends as it starts

01:00:00.000 --> 01:00:02.000
&lt;script&gt;alert(1)&lt;/script&gt; stays text &#x1F600;
`;

describe("WebVTT", () => {
  it("reads cues with identifiers, settings, short timestamps and several lines", () => {
    assert.deepEqual(parseVtt(SAMPLE), [
      { start: 0.5, end: 3, text: "Welcome to the lesson." },
      { start: 3, end: 6.25, text: "Lists & loops, in one go." },
      { start: 3600, end: 3602, text: "<script>alert(1)</script> stays text 😀" },
    ]);
  });

  it("reads CRLF files and refuses what is not WebVTT", () => {
    assert.deepEqual(parseVtt("WEBVTT\r\n\r\n00:01.000 --> 00:02.000\r\nHi\r\n"), [{ start: 1, end: 2, text: "Hi" }]);
    assert.deepEqual(parseVtt("1\n00:00:01,000 --> 00:00:02,000\nan SRT file\n"), []);
    assert.deepEqual(parseVtt(""), []);
    assert.deepEqual(parseVtt(null), []);
  });

  it("finds the cue playing at a time", () => {
    const cues = parseVtt(SAMPLE);
    assert.equal(cueIndexAt(cues, 0), -1);
    assert.equal(cueIndexAt(cues, 0.5), 0);
    assert.equal(cueIndexAt(cues, 2.99), 0);
    assert.equal(cueIndexAt(cues, 3), 1);
    assert.equal(cueIndexAt(cues, 100), -1, "between cues nothing plays");
    assert.equal(cueIndexAt(cues, 3601), 2);
    assert.equal(cueIndexAt([], 1), -1);
  });

  it("keeps cue text as text", () => {
    assert.equal(cueText("<i>a</i>&nbsp;b &bogus; &#0;"), "a\u00a0b &bogus; &#0;");
  });
});
