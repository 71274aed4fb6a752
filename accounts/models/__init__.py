from .account import Account, AccountStatus, LifecycleStage, Tier
from .billing import Invoice, InvoiceStatus, MovementKind, MRRMovement
from .contact import Contact
from .engagement import CSMScore, NPSResponse, Sentiment, Touchpoint, TouchpointKind
from .history import AccountChange, ChangeField, ChangeSource
from .rules import StageRules
from .support import Ticket, TicketPriority, TicketStatus
from .usage import DailyUsage, UsageEvent

__all__ = [
    "Account",
    "AccountChange",
    "AccountStatus",
    "CSMScore",
    "ChangeField",
    "ChangeSource",
    "Contact",
    "DailyUsage",
    "Invoice",
    "InvoiceStatus",
    "LifecycleStage",
    "MRRMovement",
    "MovementKind",
    "NPSResponse",
    "Sentiment",
    "StageRules",
    "Ticket",
    "TicketPriority",
    "TicketStatus",
    "Tier",
    "Touchpoint",
    "TouchpointKind",
    "UsageEvent",
]
