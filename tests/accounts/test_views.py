"""Sign up, log in, log out and password change, with the site's templates."""

import pytest
from django.contrib.auth import get_user_model

from accounts.models import ApiToken, Invitation
from accounts.services import invitation_create, token_create

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-passphrase-42"


def test_signup_creates_the_user_logs_in_and_follows_next(client):
    response = client.post(
        "/accounts/signup/", {"username": "bob", "password1": PASSWORD, "password2": PASSWORD, "next": "/sessions/"}
    )
    assert response.status_code == 302 and response["Location"] == "/sessions/"
    assert client.get("/sessions/").status_code == 200
    assert get_user_model().objects.filter(username="bob").exists()


def test_signup_refuses_an_offsite_next(client):
    data = {"username": "bob", "password1": PASSWORD, "password2": PASSWORD, "next": "https://evil.example/"}
    assert client.post("/accounts/signup/", data)["Location"] == "/"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "bob", "password1": "short", "password2": "short"}, b"too short"),
        ({"username": "bob", "password1": PASSWORD, "password2": PASSWORD + "x"}, b"didn"),
        ({"username": "", "password1": PASSWORD, "password2": PASSWORD}, b"required"),
    ],
)
def test_bad_signups_are_a_400_with_the_reason(client, data, message):
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 400 and message in response.content
    assert not get_user_model().objects.exists()


def test_login_page_and_login_go_back_to_next(client, django_user_model):
    django_user_model.objects.create_user(username="carol", password=PASSWORD)
    page = client.get("/accounts/login/?next=/sessions/")
    assert page.status_code == 200 and b'name="next" value="/sessions/"' in page.content
    response = client.post("/accounts/login/", {"username": "carol", "password": PASSWORD, "next": "/sessions/"})
    assert response["Location"] == "/sessions/"


def test_wrong_password_is_refused(client, django_user_model):
    django_user_model.objects.create_user(username="carol", password=PASSWORD)
    response = client.post("/accounts/login/", {"username": "carol", "password": "wrong"})
    assert response.status_code == 200 and b"enter a correct username and password" in response.content


def test_logout_is_a_post_and_ends_the_session(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="dave", password=PASSWORD))
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_password_change(client, django_user_model):
    user = django_user_model.objects.create_user(username="erin", password=PASSWORD)
    client.force_login(user)
    assert client.get("/accounts/password/").status_code == 200
    new = PASSWORD + "-new"
    data = {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    assert client.post("/accounts/password/", data)["Location"] == "/accounts/password/done/"
    user.refresh_from_db()
    assert user.check_password(new)


def test_nav_shows_the_user_and_log_out(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="frank", password=PASSWORD))
    page = client.get("/")
    assert b"frank" in page.content and b"Log out" in page.content and b"History" in page.content


def test_nav_links_to_the_api_tokens_page_for_a_logged_in_user_only(client, django_user_model):
    link = b'<a href="/accounts/tokens/">API tokens</a>'
    assert link not in client.get("/accounts/login/").content
    client.force_login(django_user_model.objects.create_user(username="grace"))
    assert link in client.get("/").content
    assert client.get("/accounts/tokens/").status_code == 200


def test_token_page_creates_shows_the_key_once_and_revokes(client, user):
    client.force_login(user)
    assert client.get("/accounts/tokens/").status_code == 200
    created = client.post("/accounts/tokens/new/", {"name": "my script"})
    assert created.status_code == 201
    key = created.context["new_key"]
    assert key in created.content.decode()
    listing = client.get("/accounts/tokens/").content.decode()
    assert "my script" in listing
    assert key not in listing
    token = ApiToken.objects.get(user=user)
    revoked = client.post(f"/accounts/tokens/{token.id}/revoke/")
    assert revoked.status_code == 302
    assert not ApiToken.objects.exists()


def test_token_page_refuses_bad_names_and_other_users_tokens(client, user, other_user):
    client.force_login(user)
    assert client.post("/accounts/tokens/new/", {"name": ""}).status_code == 400
    theirs = token_create(user=other_user, name="theirs").token
    client.post(f"/accounts/tokens/{theirs.id}/revoke/")
    assert ApiToken.objects.filter(id=theirs.id).exists()


def test_token_page_needs_login(client):
    response = client.get("/accounts/tokens/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert client.post("/accounts/tokens/new/", {"name": "x"}).status_code == 302
    assert not ApiToken.objects.exists()


def test_closed_signup_refuses_new_accounts(client, settings):
    settings.SIGNUP_POLICY = "closed"
    response = client.post("/accounts/signup/", {"username": "x", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 403 and b"Sign-up is closed" in response.content
    assert not get_user_model().objects.filter(username="x").exists()
    assert b"Create an account" not in client.get("/accounts/login/").content


def test_an_invitation_link_lets_one_person_sign_up(client, settings, user):
    settings.SIGNUP_POLICY = "invite"
    key = invitation_create(created_by=user).key
    assert client.get("/accounts/signup/").status_code == 403
    page = client.get(f"/accounts/signup/?invite={key}")
    assert page.status_code == 200 and key.encode() in page.content  # carried in the form
    data = {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD, "invite": key}
    assert client.post("/accounts/signup/", data).status_code == 302
    assert Invitation.objects.get().used_by.username == "newcomer"
    client.logout()
    again = client.post("/accounts/signup/", {**data, "username": "second"})
    assert again.status_code == 403 and b"used already" in again.content


def test_repeated_failed_logins_lock_the_account_for_a_while(client, django_user_model, settings):
    settings.LOGIN_MAX_FAILURES = 3
    django_user_model.objects.create_user("dora", password=PASSWORD)
    for _ in range(3):
        assert client.post("/accounts/login/", {"username": "dora", "password": "wrong"}).status_code == 200
    locked = client.post("/accounts/login/", {"username": "dora", "password": PASSWORD})
    assert b"Too many failed logins" in locked.content and "_auth_user_id" not in client.session
    django_user_model.objects.create_user("eve", password=PASSWORD)
    other = client.post("/accounts/login/", {"username": "eve", "password": PASSWORD})
    assert other.status_code == 302  # another account from the same address is not locked (below its limit)


def test_the_admin_login_is_locked_out_too(client, django_user_model, settings):
    settings.LOGIN_MAX_FAILURES = 2
    django_user_model.objects.create_superuser("root", password=PASSWORD)
    for _ in range(2):
        client.post("/admin/login/", {"username": "root", "password": "wrong"})
    client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_a_forgotten_password_is_reset_through_an_emailed_link(client, django_user_model, mailoutbox):
    django_user_model.objects.create_user("fay", email="fay@example.org", password="old-passphrase-1234")
    assert client.post("/accounts/password/reset/", {"email": "fay@example.org"}).status_code == 302
    link = next(line for line in mailoutbox[0].body.splitlines() if "/accounts/password/reset/" in line)
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True)
    set_url = form.redirect_chain[-1][0] if form.redirect_chain else path
    done = client.post(set_url, {"new_password1": "a-new-passphrase-5678", "new_password2": "a-new-passphrase-5678"})
    assert done.status_code == 302
    assert client.login(username="fay", password="a-new-passphrase-5678")


def test_a_token_can_be_made_read_only_and_expiring(client, user):
    client.force_login(user)
    client.post("/accounts/tokens/new/", {"name": "viewer", "read_only": "on", "expires_in_days": "30"})
    token = ApiToken.objects.get(name="viewer")
    assert token.read_only and token.expires_at is not None
    listing = client.get("/accounts/tokens/").content
    assert b"read-only" in listing
