"""What the board says for a call (queues.speech), and the clips it plays instead when
its browser has no Indonesian voice: every clip a call can need is committed, small,
and made again the same by `manage.py board_audio`."""

import io
import shutil
import wave
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from queues import speech
from queues.management.commands import board_audio

CLIPS = Path(board_audio.OUTPUT)


@pytest.mark.parametrize(("number", "words"), [
    (1, "satu"), (5, "lima"), (9, "sembilan"), (10, "sepuluh"), (11, "sebelas"),
    (12, "dua belas"), (19, "sembilan belas"), (20, "dua puluh"), (21, "dua puluh satu"),
    (70, "tujuh puluh"), (99, "sembilan puluh sembilan"), (0, "nol"),
])
def test_a_counter_number_is_said_in_indonesian_words(number, words):
    assert " ".join(speech.number_words(number)) == words


@pytest.mark.parametrize("number", [-1, 100, 1000])
def test_a_number_outside_0_to_99_is_refused(number):
    with pytest.raises(ValueError, match="is not a number from 0 to 99"):
        speech.number_words(number)


def test_a_ticket_is_said_letter_then_digit_by_digit():
    assert speech.ticket_words("C-001") == ["C", "nol", "nol", "satu"]
    assert speech.ticket_words("B-014") == ["B", "nol", "satu", "empat"]
    assert speech.ticket_words("A-1000") == ["A", "satu", "nol", "nol", "nol"]


@pytest.mark.parametrize("code", ["C001", "c-001", "CC-001", "-001", "C-", "C-0x1", "C-٣"])
def test_what_is_not_a_ticket_code_is_refused(code):
    with pytest.raises(ValueError, match="is not a ticket code"):
        speech.ticket_words(code)


def test_the_sentence_of_a_call():
    assert speech.call_speech(ticket="C-001", counter_number=5) == (
        "Nomor antrean C nol nol satu, silakan ke loket lima")
    assert speech.call_speech(ticket="B-014", counter_number=12) == (
        "Nomor antrean B nol satu empat, silakan ke loket dua belas")
    assert speech.call_speech(ticket="A-120", counter_number=None) == (
        "Nomor antrean A satu dua nol")


def test_the_clips_of_a_call_follow_the_sentence_after_a_chime():
    assert speech.call_clips(ticket="C-001", counter_number=21) == [
        "chime", "ticket_number", "letter_c", "nol", "nol", "satu",
        "go_to_counter", "dua", "puluh", "satu"]
    assert speech.call_clips(ticket="Z-090", counter_number=None) == [
        "chime", "ticket_number", "letter_z", "nol", "sembilan", "nol"]


def test_every_clip_a_call_can_need_is_committed_small_and_mono():
    needed = {"chime"}
    for letter in speech.LETTERS:
        for counter in range(1, 100):
            needed.update(speech.call_clips(ticket=f"{letter}-{counter:03d}",
                                            counter_number=counter))
    needed.update(speech.call_clips(ticket="A-1234567890", counter_number=None))
    committed = {path.stem: path for path in CLIPS.glob("*.wav")}
    assert set(committed) == needed == {"chime", *speech.clip_texts()}
    for path in committed.values():
        with wave.open(str(path), "rb") as clip:
            assert (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) == (
                1, 2, 11_025), path.name
            assert 0.2 < clip.getnframes() / clip.getframerate() < 2.5, path.name
    assert sum(path.stat().st_size for path in committed.values()) < 600_000


def test_the_board_audio_command_needs_espeak_ng(monkeypatch, tmp_path):
    monkeypatch.setattr(board_audio.shutil, "which", lambda name: None)
    with pytest.raises(CommandError, match="espeak-ng is not installed"):
        call_command("board_audio", output=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_the_board_audio_command_makes_the_committed_set_again(tmp_path):
    (tmp_path / "old_word.wav").write_bytes(b"RIFF")
    out = io.StringIO()
    call_command("board_audio", output=tmp_path, stdout=out)
    made = {path.name: path for path in tmp_path.iterdir()}
    assert sorted(made) == sorted(path.name for path in CLIPS.glob("*.wav"))
    assert out.getvalue().startswith(f"{len(made)} clips, ")
    # The chime is synthesized here; the words depend on eSpeak NG's version.
    assert made["chime.wav"].read_bytes() == (CLIPS / "chime.wav").read_bytes()
    for path in made.values():
        with wave.open(str(path), "rb") as clip:
            assert (clip.getnchannels(), clip.getframerate()) == (1, 11_025)
