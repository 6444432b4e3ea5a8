"""Make the clips the display board plays when its browser has no Indonesian voice:
the chime (synthesized here) and every word of queues.speech, spoken by eSpeak NG
(`apt-get install espeak-ng`). The clips are committed, so a board needs neither this
command nor the internet; run it again only to change how they sound.

Each clip is a mono 16-bit WAV at 11,025 Hz, trimmed of its silences and brought to
the same peak: every browser plays WAV, and at that rate a word is about 10 kB."""

import math
import shutil
import subprocess
import tempfile
import wave
from array import array
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from queues import speech

OUTPUT = Path(__file__).resolve().parents[2] / "static" / "queues" / "board_audio"
RATE = 11_025
ESPEAK_RATE = 22_050  # eSpeak NG's only output rate: halved by averaging pairs
PEAK = 0.89 * 32_767  # about -1 dBFS
# Samples quieter than this (of 32,767) at either end are silence, and the pause kept
# around a word: short, so the words of a call follow each other as in a sentence.
SILENCE = 400
PAD_SECONDS = 0.04


class Command(BaseCommand):
    help = "Make the display board's chime and Indonesian voice clips (needs espeak-ng)."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=OUTPUT,
                            help="Folder of the clips (default: the queues app's static).")
        parser.add_argument("--voice", default="id", help="eSpeak NG voice (default: id).")
        parser.add_argument("--speed", type=int, default=140,
                            help="Words a minute (default: 140, slower than speech, "
                                 "for a hall).")

    def handle(self, *args, output, voice, speed, **options):
        espeak = shutil.which("espeak-ng")
        if espeak is None:
            raise CommandError("espeak-ng is not installed (apt-get install espeak-ng).")
        output.mkdir(parents=True, exist_ok=True)
        clips = {speech.CHIME: chime()}
        with tempfile.TemporaryDirectory() as folder:
            spoken = Path(folder) / "clip.wav"
            for name, text in speech.clip_texts().items():
                # The text is queues.speech's own words, never input; no shell.
                subprocess.run([espeak, "-v", voice, "-s", str(speed),  # noqa: S603
                                "-w", str(spoken), text], check=True)
                clips[name] = normalized(trimmed(halved(read_mono(spoken))))
        for stale in set(output.glob("*.wav")) - {output / f"{name}.wav" for name in clips}:
            stale.unlink()
        total = 0
        for name, samples in clips.items():
            path = output / f"{name}.wav"
            write_mono(path, samples)
            total += path.stat().st_size
        self.stdout.write(f"{len(clips)} clips, {total:,} bytes, in {output}")


def read_mono(path: Path) -> array:
    with wave.open(str(path), "rb") as source:
        if (source.getnchannels(), source.getsampwidth(), source.getframerate()) != (
                1, 2, ESPEAK_RATE):
            raise CommandError(f"{path}: expected mono 16-bit audio at {ESPEAK_RATE} Hz")
        samples = array("h")
        samples.frombytes(source.readframes(source.getnframes()))
    return samples


def write_mono(path: Path, samples: array) -> None:
    with wave.open(str(path), "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(RATE)
        target.writeframes(samples.tobytes())


def halved(samples: array) -> array:
    """From 22,050 to 11,025 Hz: the mean of each pair is the low-pass filter."""
    return array("h", ((samples[i] + samples[i + 1]) // 2
                       for i in range(0, len(samples) - 1, 2)))


def trimmed(samples: array) -> array:
    loud = [i for i, value in enumerate(samples) if abs(value) > SILENCE]
    if not loud:
        raise CommandError("eSpeak NG made a silent clip")
    pad = int(PAD_SECONDS * RATE)
    return samples[max(loud[0] - pad, 0):loud[-1] + pad]


def normalized(samples: array) -> array:
    gain = PEAK / max(abs(value) for value in samples)
    return array("h", (round(value * gain) for value in samples))


def chime() -> array:
    """A two-tone chime (E5 then C5), each a struck tone with two overtones that dies
    away, as halls' announcement chimes go."""
    samples = [0.0] * int(1.4 * RATE)
    for start, pitch in ((0.0, 659.25), (0.45, 523.25)):
        offset = int(start * RATE)
        for i in range(len(samples) - offset):
            t = i / RATE
            attack = min(t / 0.005, 1.0)  # 5 ms, or the tone starts with a click
            tone = (math.sin(2 * math.pi * pitch * t)
                    + 0.4 * math.sin(2 * math.pi * 2 * pitch * t)
                    + 0.15 * math.sin(2 * math.pi * 3 * pitch * t))
            samples[offset + i] += attack * math.exp(-3.2 * t) * tone
    fade = int(0.05 * RATE)  # the last 50 ms, so it ends without a click
    for i in range(fade):
        samples[-1 - i] *= i / fade
    gain = PEAK / max(abs(value) for value in samples)
    return array("h", (round(value * gain) for value in samples))
