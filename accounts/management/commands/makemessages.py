"""``makemessages`` that also collects the pure rules' reasons: ``say(msgid, …)`` and
``say_n(singular, plural, count, …)`` (thalimon/said.py) are gettext keywords."""

from django.core.management.commands.makemessages import Command as MakeMessagesCommand


class Command(MakeMessagesCommand):
    xgettext_options = [*MakeMessagesCommand.xgettext_options, "--keyword=say", "--keyword=say_n:1,2"]
