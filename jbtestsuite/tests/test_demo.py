import pytest

pytestmark = pytest.mark.django_db

PAGES = {
    "/demo/": ["demo-index", "demo-links", "link-login", "link-todo", "link-delayed", "link-iframe", "link-select",
               "link-dialogs"],
    "/demo/login/": ["login-form", "username", "password", "login-submit"],
    "/demo/todo/": ["todo-form", "todo-input", "todo-add", "todo-list", "todo-count", "todo-empty"],
    "/demo/delayed/": ["loading", "late-container", "load-result", "delayed-result"],
    "/demo/iframe/": ["outer-text", "demo-frame"],
    "/demo/iframe/inner/": ["frame-text", "frame-form", "frame-name", "frame-greet", "frame-greeting"],
    "/demo/select/": ["color-select", "color-choice"],
    "/demo/dialogs/": ["alert-button", "confirm-button", "dialog-result"],
}  # fmt: skip


@pytest.mark.parametrize(("url", "ids"), PAGES.items())
def test_it_serves_each_demo_page_with_its_element_ids(client, url, ids):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    for element_id in ids:
        assert f'id="{element_id}"' in html


def test_it_links_every_page_from_the_index(client):
    html = client.get("/demo/").content.decode()
    for url in PAGES:
        if url not in ("/demo/", "/demo/iframe/inner/"):
            assert f'href="{url}"' in html


def test_it_lets_only_the_inner_page_be_framed(client):
    assert client.get("/demo/iframe/inner/")["X-Frame-Options"] == "SAMEORIGIN"
    assert client.get("/demo/iframe/")["X-Frame-Options"] == "DENY"


def test_it_welcomes_the_demo_user_with_the_right_credentials(client):
    client.handler.enforce_csrf_checks = True  # the form must work without a token
    response = client.post("/demo/login/", {"username": "demo", "password": "demo"}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[0][0].startswith("/demo/welcome/?token=")
    assert '<h1 id="welcome-message" data-test="welcome-message">Welcome, demo</h1>' in response.content.decode()


@pytest.mark.parametrize(("username", "password"), [("demo", "wrong"), ("admin", "demo"), ("", "")])
def test_it_rejects_wrong_credentials_and_keeps_the_username(client, username, password):
    response = client.post("/demo/login/", {"username": username, "password": password})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="login-error"' in html
    assert "Invalid username or password." in html
    assert f'id="username" name="username" data-test="username" value="{username}"' in html
    assert "welcome-message" not in html


def test_it_shows_no_error_before_the_form_is_sent(client):
    assert 'id="login-error"' not in client.get("/demo/login/").content.decode()


@pytest.mark.parametrize("query", ["", "?token=demo", "?token=forged:signature"])
def test_it_sends_the_welcome_page_back_to_login_without_a_valid_token(client, query):
    response = client.get(f"/demo/welcome/{query}")
    assert response.status_code == 302
    assert response["Location"] == "/demo/login/"


def test_it_serves_the_demo_without_logging_in_to_the_app(client):
    # No session, no JWT: the runner's browser is a stranger to the app.
    assert client.get("/demo/todo/").status_code == 200
    assert client.post("/demo/login/", {"username": "demo", "password": "demo"}).status_code == 302
