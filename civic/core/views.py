"""Public pages."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import HiddenField

from civic.actionplan import services as actionplan
from civic.extensions import db
from civic.permissions import public
from civic.territory.models import Commune, Quartier
from civic.viewutil import safe_next

bp = Blueprint("core", __name__)


class LanguageForm(FlaskForm):
    """The language switcher posted from every page."""

    lang = HiddenField()
    next = HiddenField()


@bp.route("/")
@public
def index():
    """Home page: what the platform is for, and its four sections."""
    stats = db.session.execute(
        select(func.count(Quartier.id), func.count(func.distinct(Quartier.commune_id)),
               func.count(Quartier.id).filter(Quartier.is_priority))
    ).one()
    return render_template("core/index.html", stats=stats)


@bp.route("/budget-participatif")
@public
def budget():
    """The participatory budget: its campaigns."""
    return redirect(url_for("budgeting.campaigns"))


@bp.route("/plan-d-action")
@public
def action_plan():
    """The action plans: each with its period, progress and a link to its tree."""
    plans = actionplan.list_plans()
    return render_template("actionplan/index.html", plans=plans,
                           plan_progress=actionplan.plan_progress)


@bp.route("/conseils-citoyens")
@public
def councils():
    """The conseils citoyens: each with its quartier, collèges and the rules checked."""
    from civic.councils.views import index

    return index()


@bp.route("/bienveilleurs")
@public
def bienveilleurs():
    """The bienveilleurs network (its pages live in civic.bienveilleurs)."""
    return redirect(url_for("bienveilleurs.index"))


@bp.route("/quartiers")
@public
def quartiers():
    """Communes and their quartiers."""
    communes = db.session.execute(select(Commune).order_by(Commune.name)).scalars().all()
    return render_template("core/quartiers.html", communes=communes)


@bp.route("/accessibilite")
@public
def accessibility():
    """Accessibility statement (required by the RGAA)."""
    return render_template("core/accessibility.html")


@bp.route("/donnees-personnelles")
@public
def privacy():
    """How personal data is used (RGPD)."""
    return render_template("core/privacy.html")


@bp.route("/langue", methods=["POST"])
@public
def set_language():
    """Switch language (kept in the session, and in the profile when signed in)."""
    form = LanguageForm()
    if form.validate_on_submit() and form.lang.data in current_app.config["CIVIC_LANGUAGES"]:
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            current_user.locale = form.lang.data
            db.session.commit()
    return redirect(safe_next())
