"""ORM tables, one module per room, on one ``Base``. API schemas live in each room's
``schemas.py``, domain values in ``pathway`` and ``alerts``.

Importing this package registers every table on ``Base.metadata`` (Alembic compares against
it), and ``from service.models import X`` names any table without knowing its room.
"""

from service.models.access import AccessGrant, AccessRequest
from service.models.alerting import (
    Alert,
    AlertEventRow,
    AlertFinding,
    OutboxEvent,
    Webhook,
    WebhookDelivery,
)
from service.models.audit import AuditCheckpoint, AuditEvent, SettingChange
from service.models.base import Base
from service.models.identity import DeviceToken, LoginAttempt
from service.models.jobs import JobRun
from service.models.org import Site, Team, User, UserTeam
from service.models.patients import (
    KccqScore,
    MedicationChange,
    Patient,
    PatientContact,
    PatientEvent,
)
from service.models.population import EligiblePopulationCount, EligiblePopulationLoad
from service.models.readings import Reading
from service.models.reports import (
    BeforeAfterSnapshot,
    EquitySnapshot,
    ReportSnapshot,
    SiteLesson,
)
from service.models.stewardship import (
    Intervention,
    SiteUnitCost,
    StarScenario,
    ValueFramework,
    ValueFrameworkSite,
    ValueFrameworkVersion,
)

__all__ = [
    "AccessGrant",
    "AccessRequest",
    "Alert",
    "AlertEventRow",
    "AlertFinding",
    "AuditCheckpoint",
    "AuditEvent",
    "Base",
    "BeforeAfterSnapshot",
    "DeviceToken",
    "EligiblePopulationCount",
    "EligiblePopulationLoad",
    "EquitySnapshot",
    "Intervention",
    "JobRun",
    "KccqScore",
    "LoginAttempt",
    "MedicationChange",
    "OutboxEvent",
    "Patient",
    "PatientContact",
    "PatientEvent",
    "Reading",
    "ReportSnapshot",
    "SettingChange",
    "Site",
    "SiteLesson",
    "SiteUnitCost",
    "StarScenario",
    "Team",
    "User",
    "UserTeam",
    "ValueFramework",
    "ValueFrameworkSite",
    "ValueFrameworkVersion",
    "Webhook",
    "WebhookDelivery",
]
