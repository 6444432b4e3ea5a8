"""Reply by SMS as a resident's phone would, through the gateway simulator: the reply
is signed with the inbound secret and POSTed over HTTP to the running server's webhook
(SMS_GATEWAY_INBOUND_SECRET, else the development secret `make run` checks with)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.errors import DomainError
from registry.notify.backends import SimulatedGateway
from registry.validators import normalize_phone


class Command(BaseCommand):
    help = ("Send an SMS from a phone to the SMS webhook, signed as the gateway signs "
            "(e.g. --from 081234567890 --text 1), and show what the phone has received.")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="phone", required=True,
                            help="The sender's phone number (0812..., +62812...).")
        parser.add_argument("--text", required=True, help="The SMS text, e.g. 1 or 2.")
        parser.add_argument("--url", default="http://127.0.0.1:8000",
                            help="The running server (default http://127.0.0.1:8000).")
        parser.add_argument("--secret", default=None,
                            help="The secret to sign with (default: SMS_GATEWAY_INBOUND_"
                                 "SECRET, else the development one).")
        parser.add_argument("--id", dest="gateway_id", default=None,
                            help="The gateway's message id (default: a new one); send "
                                 "one again to see that a repeat changes nothing.")

    def handle(self, *args, phone, text, url, gateway_id, secret, **options):
        try:
            phone = normalize_phone(phone)
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        try:
            status, body = SimulatedGateway.reply(
                phone=phone, text=text, base_url=url, gateway_id=gateway_id,
                secret=secret or settings.SMS_GATEWAY_INBOUND_SECRET
                or settings.SMS_GATEWAY_DEV_SECRET)
        except OSError as error:
            raise CommandError(f"The server at {url} did not answer: {error}") from error
        self.stdout.write(f"{status} {body}")
        received = SimulatedGateway.received(phone)
        if received:
            self.stdout.write(f"{phone} has received (simulated gateway):")
            for message in received:
                self.stdout.write(f"  {message['title']}: {message['body']}")
