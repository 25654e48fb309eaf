"""Admin pages: users and roles, communes and quartiers, services, councils, audit, outbox."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from civic.accounts import services as account_services
from civic.accounts.models import AuditEntry, OutboxMessage, RoleGrant, User
from civic.admin.forms import (
    SCOPE_KIND_TITLES,
    CommuneForm,
    CouncilForm,
    GrantForm,
    QuartierForm,
    ServiceForm,
    parse_scope,
    scope_value,
)
from civic.extensions import db
from civic.permissions import ROLES, requires
from civic.territory import services as territory
from civic.territory.models import CityService, Commune, Council, Quartier
from civic.viewutil import ConfirmForm, attach_error, change, confirmed, form_status

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE = 50


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 10_000))
    except ValueError:
        return 1


@bp.route("/")
@requires("admin.users")
def index():
    """Admin home with counts."""
    counts = {
        "users": db.session.scalar(select(func.count(User.id)).where(User.deleted_at.is_(None))),
        "communes": db.session.scalar(select(func.count(Commune.id))),
        "quartiers": db.session.scalar(select(func.count(Quartier.id))),
        "services": db.session.scalar(select(func.count(CityService.id))),
        "councils": db.session.scalar(select(func.count(Council.id))),
    }
    return render_template("admin/index.html", counts=counts)


@bp.route("/utilisateurs")
@requires("admin.users")
def users():
    """Users, searchable, with their roles."""
    q = request.args.get("q", "").strip()[:100]
    role = request.args.get("role", "")
    stmt = select(User).where(User.deleted_at.is_(None))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(User.email.ilike(like), User.display_name.ilike(like)))
    if role in ROLES and role != "resident":
        stmt = stmt.where(User.grants.any(RoleGrant.role == role))
    page = _page()
    rows = db.session.execute(
        stmt.order_by(User.display_name, User.id).offset((page - 1) * PAGE).limit(PAGE + 1)
    ).scalars().all()
    return render_template("admin/users.html", users=rows[:PAGE], q=q, role=role, page=page,
                           has_next=len(rows) > PAGE)


def _grant_form(user: User) -> GrantForm:
    form = GrantForm()
    form.role.choices = [(r.name, str(r.title)) for r in ROLES.values() if r.grantable]
    # One group per kind of scope that a grantable role uses (civic.permissions.ROLES).
    kinds = []
    for r in ROLES.values():
        if r.grantable and r.scope and r.scope not in kinds:
            kinds.append(r.scope)
    groups: dict[str | None, list[tuple[str, str]]] = {None: [("", _("— None —"))]}
    for kind in kinds:
        role = next(r.name for r in ROLES.values() if r.scope == kind)
        options = [(scope_value(kind, sid), name)
                   for sid, name in account_services.scope_choices(role)]
        if options:
            groups[str(SCOPE_KIND_TITLES.get(kind, kind))] = options
    form.scope.choices = groups
    return form


@bp.route("/utilisateurs/<int:user_id>", methods=["GET", "POST"])
@requires("admin.users")
def user(user_id: int):
    """A user's details, roles (grant/revoke) and audit trail."""
    target = db.get_or_404(User, user_id)
    form = _grant_form(target)
    if form.validate_on_submit():
        try:
            try:
                kind, scope_id = parse_scope(form.scope.data)
            except ValueError:
                raise account_services.AccountError(
                    _("Choose a scope from the list."), "scope") from None
            account_services.grant_role(current_user, target, form.role.data, scope_id,
                                        scope_kind=kind)
            db.session.commit()
        except account_services.AccountError as exc:
            if exc.field == "scope_id":  # the service's name for what the form calls scope
                exc.field = "scope"
            attach_error(form, exc)
        else:
            flash(_("Role granted."), "success")
            return redirect(url_for("admin.user", user_id=target.id))
    entries = db.session.execute(
        select(AuditEntry).where(AuditEntry.subject_user_id == target.id)
        .order_by(AuditEntry.at.desc()).limit(50)
    ).scalars().all()
    return render_template("admin/user.html", target=target, form=form, entries=entries,
                           revoke_form=ConfirmForm(), scope_label=account_services.scope_label
                           ), form_status(form)


@bp.route("/utilisateurs/<int:user_id>/roles/<int:grant_id>/retirer", methods=["POST"])
@requires("admin.users")
def revoke(user_id: int, grant_id: int):
    """Withdraw a role (audited)."""
    grant = db.get_or_404(RoleGrant, grant_id)
    if grant.user_id != user_id:
        abort(404)
    confirmed()
    with change(account_services.AccountError, success=_("Role withdrawn.")):
        account_services.revoke_role(current_user, grant)
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/territoire")
@requires("admin.territory")
def territory_index():
    """Communes with their quartiers."""
    communes = db.session.execute(select(Commune).order_by(Commune.name)).scalars().all()
    return render_template("admin/territory.html", communes=communes)


def _edit(form, template: str, save, redirect_to: str, **ctx):  # noqa: ANN001, ANN202
    if form.validate_on_submit():
        with change(account_services.AccountError, form, _("Saved.")) as step:
            save()
        if step.ok:
            return redirect(url_for(redirect_to))
    return render_template(template, form=form, **ctx), 422 if form.is_submitted() else 200


@bp.route("/communes/nouvelle", methods=["GET", "POST"], defaults={"commune_id": None})
@bp.route("/communes/<int:commune_id>", methods=["GET", "POST"])
@requires("admin.territory")
def commune(commune_id: int | None):
    """Create or edit a commune."""
    obj = db.get_or_404(Commune, commune_id) if commune_id else None
    form = CommuneForm(obj=obj)
    return _edit(form, "admin/commune.html",
                 lambda: territory.save_commune(current_user, obj, name=form.name.data,
                                                insee_code=form.insee_code.data),
                 "admin.territory_index", obj=obj)


@bp.route("/quartiers/nouveau", methods=["GET", "POST"], defaults={"quartier_id": None})
@bp.route("/quartiers/<int:quartier_id>", methods=["GET", "POST"])
@requires("admin.territory")
def quartier(quartier_id: int | None):
    """Create or edit a quartier."""
    obj = db.get_or_404(Quartier, quartier_id) if quartier_id else None
    form = QuartierForm(obj=obj)
    form.commune_id.choices = [("", _("— Choose —"))] + [
        (c.id, c.name) for c in db.session.execute(
            select(Commune).order_by(Commune.name)).scalars()
    ]
    return _edit(form, "admin/quartier.html",
                 lambda: territory.save_quartier(
                     current_user, obj, name=form.name.data, code=form.code.data,
                     commune_id=form.commune_id.data, population=form.population.data,
                     is_priority=form.is_priority.data,
                     outline_geojson=form.outline_geojson.data),
                 "admin.territory_index", obj=obj)


@bp.route("/services")
@requires("admin.territory")
def services():
    """City services."""
    rows = db.session.execute(select(CityService).order_by(CityService.name)).scalars().all()
    return render_template("admin/services.html", services=rows)


@bp.route("/services/nouveau", methods=["GET", "POST"], defaults={"service_id": None})
@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@requires("admin.territory")
def service(service_id: int | None):
    """Create or edit a city service."""
    obj = db.get_or_404(CityService, service_id) if service_id else None
    form = ServiceForm(obj=obj)
    return _edit(form, "admin/service.html",
                 lambda: territory.save_service(current_user, obj, name=form.name.data,
                                                slug=form.slug.data, email=form.email.data),
                 "admin.services", obj=obj)


@bp.route("/conseils")
@requires("admin.territory")
def councils():
    """Conseils citoyens."""
    rows = db.session.execute(select(Council).order_by(Council.name)).scalars().all()
    return render_template("admin/councils.html", councils=rows)


@bp.route("/conseils/nouveau", methods=["GET", "POST"], defaults={"council_id": None})
@bp.route("/conseils/<int:council_id>", methods=["GET", "POST"])
@requires("admin.territory")
def council(council_id: int | None):
    """Create or edit a conseil citoyen."""
    obj = db.get_or_404(Council, council_id) if council_id else None
    form = CouncilForm(obj=obj)
    form.quartier_id.populate()
    return _edit(form, "admin/council.html",
                 lambda: territory.save_council(current_user, obj, name=form.name.data,
                                                quartier_id=form.quartier_id.data),
                 "admin.councils", obj=obj)


@bp.route("/journal")
@requires("admin.audit")
def audit_log():
    """The audit log, newest first, filterable by action."""
    action = request.args.get("action", "").strip()[:60]
    stmt = select(AuditEntry)
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action))
    page = _page()
    rows = db.session.execute(
        stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * PAGE).limit(PAGE + 1)
    ).scalars().all()
    return render_template("admin/audit.html", entries=rows[:PAGE], action=action, page=page,
                           has_next=len(rows) > PAGE)


@bp.route("/courriels")
@requires("admin.outbox")
def outbox():
    """Emails stored by the outbox backend (development) or sent (production log)."""
    page = _page()
    rows = db.session.execute(
        select(OutboxMessage).order_by(OutboxMessage.id.desc())
        .offset((page - 1) * PAGE).limit(PAGE + 1)
    ).scalars().all()
    return render_template("admin/outbox.html", messages=rows[:PAGE], page=page,
                           has_next=len(rows) > PAGE)
