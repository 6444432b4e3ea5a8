"""What the display board says aloud for a call, always in Indonesian (it speaks to the
hall, whatever language the page is shown in): "Nomor antrean C nol nol satu, silakan
ke loket lima". The ticket's letter is said as a letter and its digits one by one, as
they are printed on the ticket; the counter's number as a number.

The same words name the pre-recorded clips the board plays when the browser has no
Indonesian voice (queues/static/queues/board_audio/<clip>.wav, made by
`manage.py board_audio`). Pure functions, no Django."""

DIGITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan",
          "sembilan")

# The clips that are not a single word of a number, and the text each one says.
CHIME = "chime"  # no words: a two-tone chime before every call
TICKET_NUMBER = "ticket_number"
GO_TO_COUNTER = "go_to_counter"
PHRASES = {TICKET_NUMBER: "nomor antrean", GO_TO_COUNTER: "silakan ke loket"}
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # a lane is one capital letter (registry.Lane)
NUMBER_WORDS = (*DIGITS, "sepuluh", "sebelas", "belas", "puluh")


def number_words(number: int) -> list[str]:
    """An Indonesian number from 0 to 99 as its words: 5 -> ["lima"], 10 -> ["sepuluh"],
    11 -> ["sebelas"], 12 -> ["dua", "belas"], 21 -> ["dua", "puluh", "satu"]. A counter
    is numbered 1 to 99 (queues.Counter.number)."""
    if not 0 <= number <= 99:
        raise ValueError(f"{number} is not a number from 0 to 99")
    tens, units = divmod(number, 10)
    if tens == 0:
        return [DIGITS[units]]
    if tens == 1:
        return {0: ["sepuluh"], 1: ["sebelas"]}.get(units, [DIGITS[units], "belas"])
    words = [DIGITS[tens], "puluh"]
    if units:
        words.append(DIGITS[units])
    return words


def ticket_words(code: str) -> list[str]:
    """A ticket's code as it is said: "C-001" -> ["C", "nol", "nol", "satu"]."""
    letter, _dash, digits = code.partition("-")
    if letter not in LETTERS or len(letter) != 1 or not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{code!r} is not a ticket code")
    return [letter, *(DIGITS[int(digit)] for digit in digits)]


def call_speech(*, ticket: str, counter_number: int | None) -> str:
    """The sentence the board says for a call: "Nomor antrean C nol nol satu, silakan ke
    loket lima". Without a counter (none recorded) only the ticket is said."""
    sentence = "Nomor antrean " + " ".join(ticket_words(ticket))
    if counter_number is not None:
        sentence += ", silakan ke loket " + " ".join(number_words(counter_number))
    return sentence


def call_clips(*, ticket: str, counter_number: int | None) -> list[str]:
    """The clips the board plays in turn for a call when the browser has no Indonesian
    voice: the chime, then the sentence of call_speech word by word."""
    letter, *digits = ticket_words(ticket)
    clips = [CHIME, TICKET_NUMBER, f"letter_{letter.lower()}", *digits]
    if counter_number is not None:
        clips += [GO_TO_COUNTER, *number_words(counter_number)]
    return clips


def clip_texts() -> dict[str, str]:
    """Every spoken clip the board may play, and the text it says (the chime is not
    spoken, so not here)."""
    return {**PHRASES, **{f"letter_{letter.lower()}": letter for letter in LETTERS},
            **{word: word for word in NUMBER_WORDS}}
