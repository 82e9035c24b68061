#!/usr/bin/env python3
"""Seeds for fuzz_audio (tests/fuzz/fuzz_audio.c's format): G.711 tone and silence from
tests/gen/audio.py's encoder, comfort noise, events, a G.729 frame run with a SID, a GSM
frame, Opus TOC variants, and the default tone plan's text."""
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'gen'))
import audio  # noqa: E402

CODEC = {'PCMU': 1, 'PCMA': 2, 'G722': 3, 'G726_32': 6, 'G729': 8, 'OPUS': 9, 'GSM': 10}


def rec(payload, kind=0):
    return bytes([kind, len(payload)]) + payload


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    tone = [int(8000 * math.sin(2 * math.pi * 425 * i / 8000)) for i in range(160 * 60)]
    ulaw = bytes(audio.ulaw_encode(s) for s in tone)
    alaw = bytes(audio.alaw_encode(s) for s in tone)
    seeds = {
        'pcmu': bytes([CODEC['PCMU']]) + b''.join(rec(ulaw[i:i + 160]) for i in range(0, len(ulaw), 160)),
        'pcma_cn_event': bytes([CODEC['PCMA']]) + rec(alaw[:160]) + rec(b'\x28', 1)
        + rec(b'\x05\x0a\x00\xa0', 2) + rec(alaw[160:320]),
        'g729': bytes([CODEC['G729']]) + rec(bytes(range(20)) + b'\x12\x34'),
        'gsm': bytes([CODEC['GSM']]) + rec(bytes([0xd0] + [0x55] * 32)),
        'opus': bytes([CODEC['OPUS']]) + rec(b'\x08' + bytes(40)) + rec(b'\x03\x02\x00') + rec(b'\xfc\xff\xfe'),
        'g722': bytes([CODEC['G722']]) + rec(bytes(range(160))),
        'g726': bytes([CODEC['G726_32']]) + rec(bytes(range(80))),
        'switch': bytes([CODEC['PCMU']]) + rec(ulaw[:160]) + rec(alaw[:160], 3 | CODEC['PCMA'] << 2),
        # 0x40: detectors off, G.711 heard from its codes (full-scale codes for the clip runs)
        'pcmu_bytes': bytes([0x40 | CODEC['PCMU']]) + rec(ulaw[:160]) + rec(b'\x80\x80\x80\x00' * 40)
        + rec(b'\xff' * 157) + rec(b''),
        'pcma_bytes': bytes([0x40 | CODEC['PCMA']]) + rec(alaw[:160]) + rec(b'\xaa\x2a' * 80),
    }
    plan_c = open(os.path.join(os.path.dirname(__file__), '..', '..', 'audio', 'plan.c')).read()
    text = ''.join(line.split('"')[1].replace('\\n', '\n')
                   for line in plan_c.split('audio_plan_default_text[] =')[1].split(';')[0].splitlines()
                   if '"' in line)
    seeds['plan'] = b'\x80' + text.encode()
    for name, data in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
