"""Queue names, as constants: the worker listens to all of them."""

from engine.mail import MAIL_QUEUE
from engine.runtime import ENGINE_QUEUE
from engine.webhooks import EVENT_QUEUE
from workflow.photo_evidence import PHOTO_QUEUE

ENGINE = ENGINE_QUEUE  # advancing instances: async service tasks, timers
MAIL = MAIL_QUEUE  # delivering the e-mail outbox
FILES = PHOTO_QUEUE  # uploaded photos: perceptual hash and sanitised copy
EVENTS = EVENT_QUEUE  # signed events to the subscribers of [events]
ALL = (ENGINE, MAIL, FILES, EVENTS)
