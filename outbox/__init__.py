"""Work queued with the data (the transactional outbox).

The follow-up work of a clinical write that runs in the worker (an urgent email, an
import) is recorded as an ``OutboxMessage`` in the write's own transaction
(``outbox.actions.enqueue``). After the commit the web process tries once, without
waiting, to hand it to the broker; whatever is not handed over (the broker is down) the
beat's relay (``outbox.tasks.relay_outbox``) hands over later, retrying with backoff until
it is delivered. A save therefore never waits for, nor fails on, the broker, and a
rolled-back write queues nothing. The tasks it starts are idempotent (they take ids and
check the state of what they work on), so a message handed over twice does no harm.
"""
