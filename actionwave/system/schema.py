"""The full schema: importing this module registers every feature area's tables on one metadata."""

from actionwave.accounts import models as accounts_models  # noqa: F401
from actionwave.bill import models as bill_models  # noqa: F401
from actionwave.calls import models as calls_models  # noqa: F401
from actionwave.core import counters, models  # noqa: F401
from actionwave.legislators import models as legislators_models  # noqa: F401
from actionwave.mail import models as mail_models  # noqa: F401
from actionwave.messages import models as messages_models  # noqa: F401

metadata = models.Base.metadata
