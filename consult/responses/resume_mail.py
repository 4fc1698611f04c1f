"""The resume link sent to the respondent's own e-mail address, on request. The address is used to
send that one message and is neither stored nor logged; the link is the same one the page shows."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from consult.core import ratelimit
from consult.core.fields import is_email
from consult.core.formatting import long_date
from consult.core.i18n import N_, gettext_for
from consult.core.mail import SmtpSettings, connect_smtp
from consult.core.problems import FieldProblem
from consult.core.ratelimit import RateVerdict

RESUME_MAIL_RATE = "5/hour"  # a person asks once or twice; more is someone using the form to send mail


RESUME_TEXT = N_("You can go on answering %(title)s where you left off%(until)s:")
KEEP_IT_TEXT = N_("Anyone with the link can see and change your answers until you send them, so keep it to yourself.")
IGNORE_TEXT = N_("If you did not ask for this message, you can ignore it.")


class ResumeMailProblem(FieldProblem):
    pass


def check_address(raw: str) -> str:
    address = raw.strip()
    if not address:
        raise ResumeMailProblem("resume-email", N_("Enter your e-mail address."))
    if len(address) > 254 or not is_email(address):
        raise ResumeMailProblem("resume-email", N_("Enter an e-mail address like namn@exempel.se."))
    return address


def hit_limit(*, source: str) -> RateVerdict:
    return ratelimit.hit(ratelimit.rate_item(RESUME_MAIL_RATE), "resume-mail", source)


def message(
    *, settings: SmtpSettings, address: str, title: str, link: str, expires: datetime | None, language: str
) -> EmailMessage:
    def t(text: str) -> str:
        return gettext_for(language, text)

    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = address
    mail["Subject"] = t(N_("Your link to the survey %(title)s")) % {"title": title}
    until = t(N_(" until %(date)s")) % {"date": long_date(expires)} if expires else ""
    mail.set_content(
        "\n\n".join(
            [
                t(RESUME_TEXT) % {"title": title, "until": until},
                link,
                t(KEEP_IT_TEXT),
                t(IGNORE_TEXT),
            ]
        )
    )
    return mail


def send(settings: SmtpSettings, mail: EmailMessage) -> None:
    """Raises OSError or smtplib.SMTPException when the mail server cannot take it."""
    with connect_smtp(settings) as smtp:
        smtp.send_message(mail)
