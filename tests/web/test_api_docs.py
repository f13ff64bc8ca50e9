"""The interactive API documentation renders in the browser, from the commons' own assets."""

from __future__ import annotations

from tests.web.conftest import Site, shot


def test_swagger_ui_renders_every_operation(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto("/docs")
    title = page.locator(".swagger-ui .info .title")
    title.wait_for()
    assert title.inner_text().startswith("Data commons for the social economy")
    preview = "/api/v1/datasets/{dataset_id}/queries/preview"
    assert page.locator(".opblock-summary-path", has_text=preview).count() == 1
    assert page.locator(".opblock").count() >= 50
    shot(page, "api-docs")
    assert requests and all(url.startswith(site.base) for url in requests), requests  # no CDN
