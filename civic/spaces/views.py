"""Role spaces. Each view needs its role's permission (see civic.permissions)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import or_, select

from civic.accounts import services
from civic.accounts.forms import AssistedRegisterForm
from civic.accounts.models import AssistedAct, CensusImport, User
from civic.extensions import db
from civic.permissions import requires
from civic.territory.models import CityService, Council
from civic.viewutil import ConfirmForm, attach_error, change, form_status

bp = Blueprint("spaces", __name__)


class CensusForm(FlaskForm):
    """Upload a census CSV."""

    file = FileField(_l("Census file (CSV)"), validators=[FileRequired()],
                     description=_l("Columns: email;quartier_code;birth_year (the last is "
                                    "optional). UTF-8, separated by ; or ,."))


@bp.route("/mon-espace")
@requires("account")
def dashboard():
    """The signed-in user's home: their roles and the spaces they open."""
    return render_template("spaces/dashboard.html")


@bp.route("/service")
@requires("agent.space")
def agent():
    """A city-service agent's space: their services."""
    ids = current_user.scopes("agent")
    services_ = db.session.execute(
        select(CityService).where(CityService.id.in_(ids)).order_by(CityService.name)
    ).scalars().all()
    return render_template("spaces/agent.html", services=services_)


@bp.route("/conseil")
@requires("council.space")
def council():
    """A council member's space: their councils."""
    ids = current_user.scopes("council_member")
    councils = db.session.execute(
        select(Council).where(Council.id.in_(ids)).order_by(Council.name)
    ).scalars().all()
    return render_template("spaces/council.html", councils=councils)


@bp.route("/reseau-bienveilleurs")
@requires("bienveilleur.space")
def bienveilleur():
    """A bienveilleur's space (its page lives in civic.bienveilleurs)."""
    return redirect(url_for("bienveilleurs.space"))


@bp.route("/guichet")
@requires("counter.assist")
def counter():
    """The counter: residents registered or helped by this agent."""
    acts = db.session.execute(
        select(AssistedAct).where(AssistedAct.agent_id == current_user.id)
        .order_by(AssistedAct.at.desc()).limit(100)
    ).scalars().all()
    return render_template("spaces/counter.html", acts=acts)


@bp.route("/guichet/inscrire", methods=["GET", "POST"])
@requires("counter.assist")
def counter_register():
    """Create an account for a resident at the counter (logged, resident told)."""
    form = AssistedRegisterForm()
    form.quartier_id.populate()
    if form.validate_on_submit():
        try:
            resident = services.assisted_register(
                current_user, display_name=form.display_name.data, email=form.email.data,
                quartier_id=form.quartier_id.data, birth_year=form.birth_year.data,
                gender=form.gender.data,
            )
            db.session.commit()
        except services.AccountError as exc:
            attach_error(form, exc)
        else:
            return redirect(url_for("spaces.counter_receipt", user_id=resident.id))
    return render_template("spaces/counter_register.html", form=form), form_status(form)


@bp.route("/guichet/recu/<int:user_id>")
@requires("counter.assist")
def counter_receipt(user_id: int):
    """A printable receipt for the resident registered at the counter."""
    resident = db.get_or_404(User, user_id)
    if resident.created_by_id != current_user.id and not current_user.has_role("coordinator"):
        abort(403)
    acts = db.session.execute(
        select(AssistedAct).where(AssistedAct.resident_id == resident.id)
        .order_by(AssistedAct.at)
    ).scalars().all()
    return render_template("spaces/counter_receipt.html", resident=resident, acts=acts)


@bp.route("/coordination")
@requires("coordination.space")
def coordination():
    """The coordination team's space."""
    imports = db.session.execute(
        select(CensusImport).order_by(CensusImport.at.desc()).limit(20)
    ).scalars().all()
    return render_template("spaces/coordination.html", imports=imports)


@bp.route("/coordination/recensement", methods=["GET", "POST"])
@requires("coordination.verify")
def census_import():
    """Import a census CSV: every bad line is reported, and nothing is imported then."""
    form = CensusForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        raw = upload.read()
        report = services.import_census(current_user, upload.filename or "census.csv", raw)
        if report.errors:
            db.session.rollback()
        else:
            db.session.commit()
    status = 422 if (form.is_submitted() and (report is None or report.errors)) else 200
    return render_template("spaces/census.html", form=form, report=report), status


@bp.route("/coordination/residents")
@requires("coordination.verify")
def residents():
    """Search residents to verify their residency in person."""
    q = request.args.get("q", "").strip()[:100]
    users: list[User] = []
    if q:
        like = f"%{q.lower()}%"
        users = db.session.execute(
            select(User).where(User.deleted_at.is_(None))
            .where(or_(User.email.ilike(like), User.display_name.ilike(like)))
            .order_by(User.display_name).limit(50)
        ).scalars().all()
    return render_template("spaces/residents.html", users=users, q=q, form=ConfirmForm())


@bp.route("/coordination/residents/<int:user_id>/verifier", methods=["POST"])
@requires("coordination.verify")
def verify_resident(user_id: int):
    """Mark a resident's residency verified in person (audited)."""
    user = db.get_or_404(User, user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    with change(services.AccountError) as step:
        services.verify_in_person(current_user, user)
        step.success = _("Residency of %(name)s verified.", name=user.display_name)
    return redirect(url_for("spaces.residents", q=request.form.get("q", "")))
