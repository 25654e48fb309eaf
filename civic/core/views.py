"""Public pages."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import HiddenField

from civic.actionplan import services as actionplan
from civic.core.cache import uncached
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
    # Two queries whatever the number of communes (was 1 + one per commune), without the
    # quartiers' outlines (GeoJSON, possibly large), which this page does not show.
    communes = db.session.execute(
        select(Commune).order_by(Commune.name).options(
            selectinload(Commune.quartiers).defer(Quartier.outline_geojson))
    ).scalars().all()
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


LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


@bp.route("/langue", methods=["GET", "POST"])
@public
@uncached
def set_language():
    """Switch language, then go back to the page (a local path only).

    Anonymous visitors use GET (``/langue?lang=en&next=/path``): the choice goes into a
    ``lang`` cookie, so pages carry neither a CSRF token nor a session and can be cached.
    Signed-in users POST (CSRF-protected), which also saves the choice in their profile.
    """
    languages = current_app.config["CIVIC_LANGUAGES"]
    response = redirect(safe_next())
    if request.method == "POST":
        form = LanguageForm()
        lang = form.lang.data if form.validate_on_submit() else None
    else:
        lang = request.args.get("lang")
    if lang not in languages:
        return response
    response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_MAX_AGE, path="/",
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True,
                        samesite="Lax")
    if request.method == "POST":
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    elif "lang" in session:
        session.pop("lang")  # an older choice kept in the session must not override this one
    return response
