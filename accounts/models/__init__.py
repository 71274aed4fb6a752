from .account import Account, AccountStatus, LifecycleStage, Tier
from .billing import Invoice, InvoiceStatus, MovementKind, MRRMovement
from .contact import Contact
from .engagement import CSMScore, NPSResponse, Sentiment, Touchpoint, TouchpointKind
from .support import Ticket, TicketPriority, TicketStatus
from .usage import DailyUsage, UsageEvent

__all__ = [
    "Account",
    "AccountStatus",
    "CSMScore",
    "Contact",
    "DailyUsage",
    "Invoice",
    "InvoiceStatus",
    "LifecycleStage",
    "MRRMovement",
    "MovementKind",
    "NPSResponse",
    "Sentiment",
    "Ticket",
    "TicketPriority",
    "TicketStatus",
    "Tier",
    "Touchpoint",
    "TouchpointKind",
    "UsageEvent",
]
