"""The full schema: importing this module registers every feature area's tables on one metadata."""

from actionwave import models

metadata = models.Base.metadata
