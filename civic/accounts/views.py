"""Account pages: register, confirm, log in/out, reset, profile, export, delete."""

from __future__ import annotations

import json
from collections import OrderedDict

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from markupsafe import escape

from civic.accounts import services
from civic.accounts.forms import (
    ChangePasswordForm,
    DeleteAccountForm,
    EmailOnlyForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from civic.core.cache import uncached
from civic.extensions import db, limiter
from civic.permissions import public, requires
from civic.viewutil import attach_error, change, form_status, safe_next

bp = Blueprint("accounts", __name__, url_prefix="/compte")


def _login_limit() -> str:
    return current_app.config["CIVIC_LOGIN_LIMIT"]


def _reset_limit() -> str:
    return current_app.config["CIVIC_RESET_LIMIT"]


def _email_key() -> str:
    return "email:" + request.form.get("email", "").strip().lower()[:254]


@bp.route("/inscription", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CIVIC_REGISTER_LIMIT"], methods=["POST"])
@public
def register():
    """Create a resident account."""
    if current_user.is_authenticated:
        return redirect(url_for("spaces.dashboard"))
    form = RegisterForm()
    form.quartier_id.populate()
    if form.validate_on_submit():
        try:
            services.register_resident(
                email=form.email.data, password=form.password.data,
                display_name=form.display_name.data, quartier_id=form.quartier_id.data,
                birth_year=form.birth_year.data, gender=form.gender.data,
                locale=session.get("lang"),
            )
            db.session.commit()
        except services.AccountError as exc:
            attach_error(form, exc)
        else:
            return redirect(url_for("accounts.check_email"))
    return render_template("accounts/register.html", form=form), form_status(form)


@bp.route("/inscription/verifiez-vos-emails")
@public
def check_email():
    """Tell the new resident to open the confirmation link."""
    return render_template("accounts/check_email.html")


@bp.route("/confirmer/<token>")
@public
def confirm(token: str):
    """Confirm an email address from the emailed link."""
    try:
        services.confirm_email(token)
        db.session.commit()
    except services.AccountError as exc:
        db.session.rollback()
        return render_template("accounts/token_error.html", message=exc.message), 400
    flash(_("Your email address is confirmed. You can now log in."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/confirmer", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
@public
def resend_confirmation():
    """Send a new confirmation link."""
    form = EmailOnlyForm()
    if form.validate_on_submit():
        user = services.find_user_by_email(form.email.data)
        if user and user.is_active and user.email_confirmed_at is None:
            services.send_confirmation(user)
            db.session.commit()
        flash(_("If an unconfirmed account uses this address, a new link is on its way."),
              "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/resend.html", form=form), 422 if form.is_submitted() else 200


# The empty login page, rendered once per process for each (locale, address) with a
# placeholder where the CSRF token goes: a visitor's GET then only needs a token (in their
# session, as before) put in place of it, not a form and a template rendering (~2.5 ms of
# CPU). The placeholder contains "<", which escaped text in the page (the path in the
# language switcher) can never contain. Bounded; pages with a flashed message, and every
# POST, are rendered as before.
_LOGIN_PAGES: OrderedDict[tuple, str] = OrderedDict()
_LOGIN_PAGES_MAX = 64
_CSRF_SLOT = "<csrf-token-slot/>"


def _empty_login_page() -> str | None:
    """The page for a visitor's GET, with their CSRF token; None when it must be rendered."""
    if "_flashes" in session:
        return None
    from flask_babel import get_locale
    from flask_wtf.csrf import generate_csrf

    key = (str(get_locale()), request.scheme, request.host, request.full_path)
    page = _LOGIN_PAGES.get(key)
    if page is None:
        html = render_template("accounts/login.html", form=LoginForm(), unconfirmed=False)
        token = generate_csrf()
        if html.count(token) != 1:  # pragma: no cover - one token, in the form
            return html
        page = html.replace(token, _CSRF_SLOT)
        _LOGIN_PAGES[key] = page
        while len(_LOGIN_PAGES) > _LOGIN_PAGES_MAX:
            _LOGIN_PAGES.popitem(last=False)
        return html
    return page.replace(_CSRF_SLOT, str(escape(generate_csrf())))


@bp.route("/connexion", methods=["GET", "POST"])
@public
@uncached  # a CSRF token in a new session: never shared, no use looking it up
def login():
    """Log in with email and password (throttled per address and per account)."""
    if current_user.is_authenticated:
        return redirect(url_for("spaces.dashboard"))
    if request.method == "GET":
        page = _empty_login_page()
        if page is not None:
            return page
    return _login_form()


# The throttle is on the form's handling, not on the view: a GET (the page) then skips
# resolving and filtering the two POST-only limits (a third of its CPU); every POST still
# goes through both, per address and per account.
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_email_key)
def _login_form():  # noqa: ANN202
    form = LoginForm()
    unconfirmed = False
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
            db.session.commit()
        except services.AccountError as exc:
            unconfirmed = exc.field == "unconfirmed"
            exc.field = None
            attach_error(form, exc)
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session at login: no fixation
            if lang:
                session["lang"] = lang
            login_user(user)
            return redirect(safe_next("spaces.dashboard"))
    return (render_template("accounts/login.html", form=form, unconfirmed=unconfirmed),
            form_status(form))


@bp.route("/deconnexion", methods=["POST"])
@requires("account")
def logout():
    """Log out everywhere: older session cookies stop working."""
    from flask_wtf import FlaskForm

    if FlaskForm().validate_on_submit():
        lang = current_user.locale or session.get("lang")
        services.end_sessions(current_user)
        db.session.commit()
        logout_user()
        session.clear()
        if lang:
            session["lang"] = lang  # the language choice outlives the session
        flash(_("You are logged out."), "info")
    return redirect(url_for("core.index"))


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
@public
def forgot_password():
    """Ask for a password reset link."""
    form = EmailOnlyForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(_("If an account uses this address, a reset link is on its way. "
                "It is valid for one hour."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/nouveau-mot-de-passe/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
@public
def reset_password(token: str):
    """Choose a new password from a reset link (single use)."""
    try:
        services.user_for_reset_token(token)
    except services.AccountError as exc:
        return render_template("accounts/token_error.html", message=exc.message), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with change(services.AccountError, form,
                    _("Your password has been changed. You can log in.")) as step:
            services.reset_password(token, form.password.data)
        if step.ok:
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/profil", methods=["GET", "POST"])
@requires("account")
def profile():
    """Edit one's profile and language."""
    user = current_user._get_current_object()
    form = ProfileForm(obj=user)
    form.quartier_id.populate()
    if not form.is_submitted():
        form.quartier_id.data = user.quartier_id
        form.locale.data = user.locale or ""
        form.gender.data = user.gender or ""
    if form.validate_on_submit():
        try:
            services.update_profile(
                user, display_name=form.display_name.data, quartier_id=form.quartier_id.data,
                birth_year=form.birth_year.data, gender=form.gender.data,
                locale=form.locale.data,
            )
            db.session.commit()
        except services.AccountError as exc:
            attach_error(form, exc)
        else:
            if user.locale:
                session["lang"] = user.locale
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form, user=user), form_status(form)


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@requires("account")
def change_password():
    """Change one's password (all other sessions are closed)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current_password.data, form.password.data)
            db.session.commit()
        except services.AccountError as exc:
            attach_error(form, exc)
        else:
            login_user(user)  # this session continues with the new epoch
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_password.html", form=form), form_status(form)


@bp.route("/mes-donnees.json")
@requires("account")
def export():
    """Download everything we hold about the signed-in user, as JSON."""
    data = services.export_user_data(current_user)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body, mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="civic-mes-donnees.json"'},
    )


@bp.route("/supprimer", methods=["GET", "POST"])
@requires("account")
def delete():
    """Delete one's account; public contributions stay, anonymised."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.delete_account(user, form.password.data)
            db.session.commit()
        except services.AccountError as exc:
            attach_error(form, exc)
        else:
            logout_user()
            session.clear()
            flash(_("Your account has been deleted."), "success")
            return redirect(url_for("core.index"))
    return render_template("accounts/delete.html", form=form), 422 if form.is_submitted() else 200

