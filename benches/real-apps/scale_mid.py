#!/usr/bin/env python3
"""Writes scale.mid: 24 three-note chords (a C major scale, three times),
half a second each at 120 bpm, on a piano: the MIDI file the FluidSynth
measurement in docs/attach.md plays. Usage: python3 scale_mid.py [OUT]"""
import struct
import sys


def vlq(n):
    """A MIDI variable-length quantity."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.insert(0, (n & 0x7F) | 0x80)
        n >>= 7
    return bytes(out)


TICKS = 480  # per quarter note
events = vlq(0) + bytes([0xFF, 0x51, 3]) + (500000).to_bytes(3, "big")  # 120 bpm
events += vlq(0) + bytes([0xC0, 0])  # program 0: piano
for root in [60, 62, 64, 65, 67, 69, 71, 72] * 3:
    chord = [root, root + 4, root + 7]
    for i, note in enumerate(chord):
        events += vlq(0) + bytes([0x90, note, 100 if i == 0 else 90])
    for i, note in enumerate(chord):
        events += vlq(TICKS // 2 if i == 0 else 0) + bytes([0x80, note, 0])
events += vlq(0) + bytes([0xFF, 0x2F, 0])  # end of track

data = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS)
data += b"MTrk" + struct.pack(">I", len(events)) + events
with open(sys.argv[1] if len(sys.argv) > 1 else "scale.mid", "wb") as f:
    f.write(data)
