"""Account services: every change to accounts and roles goes through here.

Services validate, change state and flush; the view commits once (STYLE.md).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from civic.accounts.models import (
    AssistedAct,
    AuditEntry,
    CensusEntry,
    CensusImport,
    RoleGrant,
    User,
)
from civic.audit import audit
from civic.extensions import db
from civic.mail import send_email
from civic.permissions import ROLES
from civic.territory.models import CityService, Council, Quartier
from civic.timeutil import utcnow

GENDERS = ("female", "male", "other")
DELETED_NAME = "Compte supprimé"


class AccountError(Exception):
    """A refusal the user can act on; ``field`` names the form field concerned."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def hash_password(password: str) -> str:
    """Hash with the configured KDF (scrypt by default)."""
    return generate_password_hash(password, method=current_app.config["CIVIC_PASSWORD_HASH_METHOD"])


def normalise_email(email: str) -> str:
    """Lower-case, trimmed email (addresses are compared case-insensitively)."""
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    """The active or deleted account holding this email, if any."""
    return db.session.execute(
        select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"civic.{purpose}")


def email_digest(email: str) -> str:
    """Keyed hash of an email, so the census register holds no readable address."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()


def check_birth_year(year: int | None) -> None:
    """Refuse impossible years of birth."""
    if year is None:
        return
    this_year = date.today().year
    if not (this_year - 120 <= year <= this_year):
        raise AccountError(_("Enter a year of birth between %(a)d and %(b)d.",
                             a=this_year - 120, b=this_year), "birth_year")


def check_password_strength(password: str, *others: str) -> None:
    """Length rule (ANSSI recommends long passphrases over composition rules)."""
    minimum = current_app.config["CIVIC_PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise AccountError(
            _("Choose a password of at least %(num)d characters.", num=minimum), "password"
        )
    if any(o and password.lower() == o.lower() for o in others):
        raise AccountError(_("Your password must not be your email or your name."), "password")


def _apply_census(user: User) -> None:
    """Verify a newly confirmed account whose email is in the census register."""
    if not user.email or user.is_verified:
        return
    entry = db.session.execute(
        select(CensusEntry).where(CensusEntry.email_digest == email_digest(user.email))
    ).scalar_one_or_none()
    if entry and entry.quartier_id == user.quartier_id:
        user.residency_verified_at = utcnow()
        user.residency_method = "census"
        audit(None, "residency.verified", user, "census register")


def register_resident(
    *,
    email: str,
    password: str,
    display_name: str,
    quartier_id: int | None,
    birth_year: int | None,
    gender: str | None,
    locale: str | None = None,
) -> User:
    """Create an unconfirmed resident account and email the confirmation link."""
    email = normalise_email(email)
    if find_user_by_email(email):
        raise AccountError(_("An account already uses this email address."), "email")
    check_password_strength(password, email, display_name)
    check_birth_year(birth_year)
    if quartier_id is not None and db.session.get(Quartier, quartier_id) is None:
        raise AccountError(_("Choose a quartier from the list."), "quartier_id")
    if gender not in (None, "", *GENDERS):
        raise AccountError(_("Choose an option from the list."), "gender")
    user = User(
        email=email,
        password_hash=hash_password(password),
        display_name=display_name.strip(),
        quartier_id=quartier_id,
        birth_year=birth_year,
        gender=gender or None,
        locale=locale,
    )
    db.session.add(user)
    db.session.flush()
    send_confirmation(user)
    return user


def send_confirmation(user: User) -> None:
    """Email a link that confirms the address (valid CIVIC_TOKEN_MAX_AGE seconds)."""
    token = _serializer("confirm").dumps({"id": user.id, "email": user.email})
    link = url_for("accounts.confirm", token=token, _external=True)
    send_email(
        user.email,
        _("Confirm your email address"),
        _("Hello %(name)s,\n\nTo confirm your email address and activate your account, "
          "open this link:\n%(link)s\n\nIf you did not create this account, ignore this "
          "message.", name=user.display_name, link=link),
    )


def confirm_email(token: str) -> User:
    """Confirm the address carried by a token; idempotent."""
    try:
        data = _serializer("confirm").loads(
            token, max_age=current_app.config["CIVIC_TOKEN_MAX_AGE"]
        )
    except SignatureExpired as exc:
        raise AccountError(_("This confirmation link has expired. Ask for a new one.")) from exc
    except BadSignature as exc:
        raise AccountError(_("This confirmation link is not valid.")) from exc
    user = db.session.get(User, data.get("id"))
    if user is None or not user.is_active or user.email != data.get("email"):
        raise AccountError(_("This confirmation link is not valid."))
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        _apply_census(user)
    return user


def authenticate(email: str, password: str) -> User:
    """The account for these credentials; one vague message for every failure."""
    user = find_user_by_email(email)
    # Hash anyway when the account is unknown, so timing does not reveal which emails exist.
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH()
    ok = check_password_hash(stored, password)
    if not (user and ok and user.is_active and user.password_hash):
        raise AccountError(_("Email or password incorrect."))
    if user.email_confirmed_at is None:
        raise AccountError(
            _("Confirm your email address first: we sent you a link. "
              "You can ask for a new one below."), "unconfirmed"
        )
    user.last_login_at = utcnow()
    return user


_dummy: list[str] = []


def _DUMMY_HASH() -> str:  # noqa: N802
    if not _dummy:
        _dummy.append(hash_password("not-a-real-password"))
    return _dummy[0]


def end_sessions(user: User) -> None:
    """Invalidate every session cookie of the user (logout, password change)."""
    user.session_epoch = (user.session_epoch or 0) + 1


def request_password_reset(email: str) -> None:
    """Email a single-use reset link if the account exists (say nothing otherwise)."""
    user = find_user_by_email(email)
    if not user or not user.is_active or not user.email:
        return
    # The current hash is part of the payload: once the password changes, the link dies.
    token = _serializer("reset").dumps({"id": user.id, "h": (user.password_hash or "")[-16:]})
    link = url_for("accounts.reset_password", token=token, _external=True)
    send_email(
        user.email,
        _("Reset your password"),
        _("Hello %(name)s,\n\nTo choose a new password, open this link within one hour:\n"
          "%(link)s\n\nIf you did not ask for it, ignore this message: your password "
          "has not changed.", name=user.display_name, link=link),
    )


def user_for_reset_token(token: str) -> User:
    """The account a reset token is for, if it is still valid and unused."""
    try:
        data = _serializer("reset").loads(token, max_age=current_app.config["CIVIC_RESET_MAX_AGE"])
    except SignatureExpired as exc:
        raise AccountError(_("This link has expired. Ask for a new one.")) from exc
    except BadSignature as exc:
        raise AccountError(_("This link is not valid or has already been used.")) from exc
    user = db.session.get(User, data.get("id"))
    if not user or not user.is_active or (user.password_hash or "")[-16:] != data.get("h"):
        raise AccountError(_("This link is not valid or has already been used."))
    return user


def set_password(user: User, password: str) -> None:
    """Set a new password and close every open session."""
    check_password_strength(password, user.email or "", user.display_name)
    user.password_hash = hash_password(password)
    if user.email_confirmed_at is None and user.email:
        # Receiving the reset link proves the address, as confirmation does.
        user.email_confirmed_at = utcnow()
        _apply_census(user)
    end_sessions(user)


def reset_password(token: str, password: str) -> User:
    """Use a reset token to set a new password."""
    user = user_for_reset_token(token)
    set_password(user, password)
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change the password after checking the current one."""
    if not user.password_hash or not check_password_hash(user.password_hash, current):
        raise AccountError(_("Your current password is incorrect."), "current_password")
    set_password(user, new)


def update_profile(
    user: User, *, display_name: str, quartier_id: int | None, birth_year: int | None,
    gender: str | None, locale: str | None,
) -> None:
    """Edit profile fields; moving quartier withdraws residency verification."""
    check_birth_year(birth_year)
    if quartier_id is not None and db.session.get(Quartier, quartier_id) is None:
        raise AccountError(_("Choose a quartier from the list."), "quartier_id")
    if gender not in (None, "", *GENDERS):
        raise AccountError(_("Choose an option from the list."), "gender")
    if locale not in (None, "", *current_app.config["CIVIC_LANGUAGES"]):
        raise AccountError(_("Choose an option from the list."), "locale")
    if quartier_id != user.quartier_id and user.is_verified:
        # Verification attests residence in one quartier; a move must be verified again.
        user.residency_verified_at = None
        user.residency_method = None
        audit(user, "residency.withdrawn", user, "quartier changed by the resident")
    user.display_name = display_name.strip()
    user.quartier_id = quartier_id
    user.birth_year = birth_year
    user.gender = gender or None
    user.locale = locale or None


# Other domains add what they hold about a person: name -> function(user) -> JSON-ready data.
EXPORT_SECTIONS: dict[str, Any] = {}


def export_user_data(user: User) -> dict[str, Any]:
    """Everything we hold about a user, as JSON-ready data (RGPD art. 15 and 20)."""
    def iso(d: Any) -> str | None:
        return d.isoformat() + "Z" if d else None

    audits = db.session.execute(
        select(AuditEntry).where(
            (AuditEntry.subject_user_id == user.id) | (AuditEntry.actor_id == user.id)
        ).order_by(AuditEntry.at)
    ).scalars()
    assisted = db.session.execute(
        select(AssistedAct).where(
            (AssistedAct.resident_id == user.id) | (AssistedAct.agent_id == user.id)
        ).order_by(AssistedAct.at)
    ).scalars()
    data = {
        "format": "civic-account-export/1",
        "exported_at": iso(utcnow()),
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "quartier": user.quartier.name if user.quartier else None,
            "quartier_code": user.quartier.code if user.quartier else None,
            "birth_year": user.birth_year,
            "gender": user.gender,
            "locale": user.locale,
            "created_at": iso(user.created_at),
            "email_confirmed_at": iso(user.email_confirmed_at),
            "residency_verified_at": iso(user.residency_verified_at),
            "residency_method": user.residency_method,
            "last_login_at": iso(user.last_login_at),
        },
        "roles": [
            {"role": g.role, "scope_id": g.scope_id, "granted_at": iso(g.granted_at)}
            for g in user.grants
        ],
        "audit_log": [
            {"at": iso(a.at), "action": a.action, "detail": a.detail,
             "by_me": a.actor_id == user.id}
            for a in audits
        ],
        "assisted_acts": [
            {"at": iso(a.at), "action": a.action, "detail": a.detail,
             "agent": a.agent.display_name if a.agent else None,
             "resident": a.resident.display_name if a.resident else None}
            for a in assisted
        ],
    }
    for name, section in EXPORT_SECTIONS.items():
        data[name] = section(user)
    return data


def delete_account(user: User, password: str | None, *, by: User | None = None) -> None:
    """Erase personal data; the row stays (anonymised) so public contributions keep an author."""
    if by is None:
        if not user.password_hash or not check_password_hash(user.password_hash, password or ""):
            raise AccountError(_("Your password is incorrect."), "password")
    user.email = None
    user.password_hash = None
    user.display_name = DELETED_NAME
    user.birth_year = None
    user.gender = None
    user.locale = None
    user.quartier_id = None
    user.residency_verified_at = None
    user.residency_method = None
    user.last_login_at = None
    user.deleted_at = utcnow()
    for grant in list(user.grants):
        db.session.delete(grant)
    end_sessions(user)
    audit(by or user, "account.deleted", user, "")


# ---------------------------------------------------------------- roles

def scope_choices(role: str) -> list[tuple[int, str]]:
    """The scopes a role can be granted in (services for agents, councils for members)."""
    scope = ROLES[role].scope
    if scope == "service":
        rows = db.session.execute(select(CityService).order_by(CityService.name)).scalars()
        return [(s.id, s.name) for s in rows]
    if scope == "council":
        rows = db.session.execute(select(Council).order_by(Council.name)).scalars()
        return [(c.id, c.name) for c in rows]
    if scope == "interlocutor":
        from civic.bienveilleurs.models import Interlocutor

        rows = db.session.execute(select(Interlocutor).order_by(Interlocutor.name)).scalars()
        return [(i.id, i.name) for i in rows]
    if scope == "campaign":
        from civic.budgeting.models import Campaign

        rows = db.session.execute(select(Campaign).order_by(Campaign.id.desc())).scalars()
        return [(c.id, c.title) for c in rows]
    if scope == "action":
        from civic.actionplan.models import Plan, PlanNode

        rows = db.session.execute(
            select(PlanNode, Plan.slug).join(Plan, PlanNode.plan_id == Plan.id)
            .where(PlanNode.kind == Plan.action_kind)
            .order_by(Plan.slug, PlanNode.plan_id, PlanNode.id)).all()
        return [(n.id, f"{slug} {n.code or ''} — {n.title}".replace("  ", " ")) for n, slug in rows]
    return []


def scope_label(role: str, scope_id: int | None) -> str:
    """Human name of a grant's scope."""
    if scope_id is None:
        return ""
    return dict(scope_choices(role)).get(scope_id, f"#{scope_id}")


def grant_role(actor: User, user: User, role: str, scope_id: int | None = None, *,
               scope_kind: str | None = None) -> RoleGrant:
    """Give a role (audited); scoped roles need a valid scope of their kind.

    ``scope_kind`` says what kind of object ``scope_id`` names ("service", "council"…,
    as in civic.permissions.ROLES). Ids of different kinds collide (service 3 and council
    3), so a caller that offers several kinds (the admin form) passes it, and a scope of
    another kind than the role's is refused instead of granting the wrong object.
    """
    definition = ROLES.get(role)
    if definition is None or not definition.grantable:
        raise AccountError(_("Unknown role."), "role")
    if scope_kind is not None and scope_kind != definition.scope:
        if definition.scope is None:
            raise AccountError(_("The role “%(role)s” has no scope: choose “— None —”.",
                                 role=definition.title), "scope_id")
        raise AccountError(_("This scope does not fit the role “%(role)s”: choose one in the "
                             "role's own group of the list.", role=definition.title),
                           "scope_id")
    if definition.scope:
        if scope_id is None or scope_id not in dict(scope_choices(role)):
            raise AccountError(_("This role needs a scope: choose one from the list."), "scope_id")
    else:
        scope_id = None
    if user.deleted_at is not None:
        raise AccountError(_("This account has been deleted."))
    if any(g.role == role and g.scope_id == scope_id for g in user.grants):
        raise AccountError(_("This user already holds this role."), "role")
    grant = RoleGrant(user=user, role=role, scope_id=scope_id, granted_by_id=actor.id)
    db.session.add(grant)
    audit(actor, "role.granted", user, f"{role} {scope_label(role, scope_id)}".strip())
    db.session.flush()
    return grant


def revoke_role(actor: User, grant: RoleGrant) -> None:
    """Withdraw a role (audited); an admin cannot remove the last admin."""
    if grant.role == "admin":
        admins = db.session.execute(
            select(func.count()).select_from(RoleGrant).where(RoleGrant.role == "admin")
        ).scalar_one()
        if admins <= 1:
            raise AccountError(_("The platform must keep at least one administrator."))
    audit(actor, "role.revoked", grant.user,
          f"{grant.role} {scope_label(grant.role, grant.scope_id)}".strip())
    grant.user.grants.remove(grant)
    db.session.delete(grant)
    db.session.flush()


def create_admin(email: str, password: str, display_name: str) -> User:
    """Create a confirmed administrator (CLI)."""
    email = normalise_email(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(_("Enter a valid email address."), "email") from exc
    if find_user_by_email(email):
        raise AccountError(_("An account already uses this email address."), "email")
    check_password_strength(password, email, display_name)
    user = User(email=email, password_hash=hash_password(password),
                display_name=display_name, email_confirmed_at=utcnow())
    db.session.add(user)
    db.session.flush()
    db.session.add(RoleGrant(user=user, role="admin"))
    audit(None, "role.granted", user, "admin (command line)")
    return user


# ---------------------------------------------------------------- assisted participation

def log_assisted(agent: User, resident: User, action: str, detail: str = "") -> AssistedAct:
    """Record an act done for a resident at a counter, and tell the resident."""
    act = AssistedAct(agent_id=agent.id, resident_id=resident.id, action=action, detail=detail)
    db.session.add(act)
    if resident.email:
        send_email(
            resident.email,
            _("An agent acted on your behalf"),
            _("Hello %(name)s,\n\n%(agent)s, at a city counter, did this on your behalf: "
              "%(what)s.\nIf you did not ask for it, tell the politique de la ville team.",
              name=resident.display_name, agent=agent.display_name, what=detail or action),
        )
    return act


def assisted_register(
    agent: User, *, display_name: str, email: str | None, quartier_id: int | None,
    birth_year: int | None, gender: str | None,
) -> User:
    """An agent creates an account for a resident without internet access.

    With an email, the resident gets a link to choose a password; without one, the
    agent hands over the printed receipt and keeps acting for them at the counter.
    """
    email = normalise_email(email) if email else None
    if email and find_user_by_email(email):
        raise AccountError(_("An account already uses this email address."), "email")
    check_birth_year(birth_year)
    if quartier_id is not None and db.session.get(Quartier, quartier_id) is None:
        raise AccountError(_("Choose a quartier from the list."), "quartier_id")
    if gender not in (None, "", *GENDERS):
        raise AccountError(_("Choose an option from the list."), "gender")
    resident = User(
        email=email, display_name=display_name.strip(), quartier_id=quartier_id,
        birth_year=birth_year, gender=gender or None, created_by_id=agent.id,
    )
    db.session.add(resident)
    db.session.flush()
    log_assisted(agent, resident, "account.created_at_counter",
                 _("account created at a counter"))
    if email:
        request_password_reset(email)
    return resident


# ---------------------------------------------------------------- residency verification

def verify_in_person(actor: User, user: User) -> None:
    """A coordinator attests residency after seeing proof in person (audited)."""
    if user.deleted_at is not None:
        raise AccountError(_("This account has been deleted."))
    if user.quartier_id is None:
        raise AccountError(_("This resident has not given a quartier of residence."))
    user.residency_verified_at = utcnow()
    user.residency_method = "in_person"
    audit(actor, "residency.verified", user, "in person")


@dataclass
class CensusReport:
    """What a census import did, or why it did nothing."""

    errors: list[tuple[int, str]] = field(default_factory=list)
    rows: int = 0
    verified: int = 0
    no_account: int = 0
    mismatched: int = 0


CENSUS_COLUMNS = ("email", "quartier_code", "birth_year")


def import_census(actor: User, filename: str, raw: bytes) -> CensusReport:
    """Import a census CSV (email;quartier_code[;birth_year]): all rows or nothing.

    Every bad row is reported by its line number; a file with any error imports
    nothing. Valid rows verify matching accounts and are kept (as keyed hashes) so
    that residents who register later are verified when they confirm their email.
    """
    report = CensusReport()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.errors.append((0, _("The file is not UTF-8 text. Export it as CSV (UTF-8).")))
        return report
    if "\x00" in text:
        report.errors.append((0, _("The file is not a CSV text file.")))
        return report
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        report.errors.append((1, _("The file is empty.")))
        return report
    except csv.Error as exc:
        report.errors.append((1, _("Unreadable line: %(err)s", err=str(exc))))
        return report
    missing = [c for c in CENSUS_COLUMNS[:2] if c not in header]
    if missing:
        report.errors.append((1, _("Missing column(s): %(cols)s. Expected: %(expected)s.",
                                   cols=", ".join(missing), expected=";".join(CENSUS_COLUMNS))))
        return report
    quartiers = {q.code.lower(): q for q in db.session.execute(select(Quartier)).scalars()}
    seen: dict[str, int] = {}
    valid: list[tuple[str, Quartier, int | None]] = []
    this_year = date.today().year
    line = 1
    try:
        for line, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                report.errors.append((line, _("Expected %(n)d columns, found %(m)d.",
                                              n=len(header), m=len(row))))
                continue
            rec = dict(zip(header, (c.strip() for c in row), strict=True))
            problems = []
            try:
                email = validate_email(rec["email"], check_deliverability=False).normalized
                email = normalise_email(email)
            except EmailNotValidError:
                problems.append(_("invalid email address %(v)r", v=rec["email"][:80]))
                email = ""
            q = quartiers.get(rec["quartier_code"].lower())
            if q is None:
                problems.append(_("unknown quartier code %(v)r", v=rec["quartier_code"][:40]))
            year: int | None = None
            if rec.get("birth_year"):
                try:
                    year = int(rec["birth_year"])
                    if not (this_year - 120 <= year <= this_year):
                        raise ValueError
                except ValueError:
                    problems.append(_("invalid year of birth %(v)r", v=rec["birth_year"][:10]))
            if email and email in seen:
                problems.append(_("same email as line %(n)d", n=seen[email]))
            if problems:
                report.errors.append((line, "; ".join(problems)))
                continue
            seen[email] = line
            valid.append((email, q, year))  # type: ignore[arg-type]
    except csv.Error as exc:
        report.errors.append((line, _("Unreadable line: %(err)s", err=str(exc))))
    if report.errors:
        return report
    if not valid:
        report.errors.append((2, _("The file has no data rows.")))
        return report
    imp = CensusImport(by_id=actor.id, filename=filename[:255], rows=len(valid), verified_now=0)
    db.session.add(imp)
    db.session.flush()
    now = utcnow()
    for email, q, year in valid:
        digest = email_digest(email)
        entry = db.session.execute(
            select(CensusEntry).where(CensusEntry.email_digest == digest)
        ).scalar_one_or_none()
        if entry is None:
            db.session.add(CensusEntry(email_digest=digest, quartier_id=q.id,
                                       birth_year=year, import_id=imp.id))
        else:
            entry.quartier_id, entry.birth_year, entry.import_id = q.id, year, imp.id
        user = find_user_by_email(email)
        if user is None or user.deleted_at is not None:
            report.no_account += 1
            continue
        if user.quartier_id != q.id:
            report.mismatched += 1
            continue
        if not user.is_verified and user.email_confirmed_at is not None:
            user.residency_verified_at = now
            user.residency_method = "census"
            report.verified += 1
    report.rows = len(valid)
    imp.verified_now = report.verified
    audit(actor, "census.imported", None,
          f"{filename[:120]}: {report.rows} rows, {report.verified} verified")
    db.session.flush()
    return report
