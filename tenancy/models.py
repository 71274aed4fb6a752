from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone

from .context import current_workspace_id
from .managers import TenantManager, UnscopedManager
from .rls import platform_access


class Workspace(models.Model):
    """A tenant: one SaaS vendor using the platform. Not tenant-owned itself."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    currency = models.CharField(max_length=3, default="USD")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def delete(self, *args, **kwargs):
        # Removing a workspace removes its rows in every tenant table: a platform operation.
        with platform_access():
            return super().delete(*args, **kwargs)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """People log in with their email address; a user may belong to several workspaces."""

    username = None
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=200, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    CSM = "csm", "CSM"
    VIEWER = "viewer", "Viewer"


class Membership(models.Model):
    """A user's role in one workspace. Looked up by the page middleware on every request."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.CSM)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"


class TenantModel(models.Model):
    """Base of every tenant-owned model: it carries its workspace, and `objects` is scoped."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", editable=False)

    objects = TenantManager()
    all_workspaces = UnscopedManager()

    class Meta:
        abstract = True
        base_manager_name = "all_workspaces"

    def save(self, *args, **kwargs):
        current = current_workspace_id(required=False)
        if self.workspace_id is None:
            self.workspace_id = current_workspace_id()
        elif current is not None and self.workspace_id != current:
            raise ValueError("refusing to save a row of another workspace")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        # Django's deletion collector runs its own statements (not through `all_workspaces`);
        # outside a scope they are platform statements. Inside one, the workspace still wins.
        with platform_access():
            return super().delete(*args, **kwargs)


class TimestampedTenantModel(TenantModel):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)  # indexed per model as (workspace, updated_at)

    class Meta(TenantModel.Meta):
        abstract = True


class ApiKeyScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Write"


class ApiKey(TimestampedTenantModel):
    """A partner system's key. Shown once; only the prefix and a SHA-256 of the secret are kept.

    The secret is 32 random bytes, so a fast hash is enough (no password stretching needed) and
    lets every API request verify the key with one indexed lookup.
    """

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "revoked_at"], name="apikey_ws_revoked")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(cls, name: str, scopes: list[str], created_by: User | None = None) -> tuple[ApiKey, str]:
        """Create a key in the current workspace; returns it with the plaintext, shown once."""
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        key = cls.objects.create(
            name=name,
            prefix=prefix,
            secret_hash=cls.hash_secret(secret),
            scopes=scopes,
            created_by=created_by,
        )
        return key, f"csp_{prefix}_{secret}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WorkerHeartbeat(models.Model):
    """Platform-level: when a beat-scheduled task last ran on a worker (operations page)."""

    name = models.CharField(max_length=50, unique=True)
    last_seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.last_seen_at:%Y-%m-%d %H:%M:%S}"


class WorkspaceLock(TenantModel):
    """A named lock within a workspace with an expiry (see tenancy/locks.py)."""

    name = models.CharField(max_length=60)
    token = models.CharField(max_length=40)
    expires_at = models.DateTimeField()

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="workspacelock_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} until {self.expires_at:%H:%M:%S}"
