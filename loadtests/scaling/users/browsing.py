"""Students browsing: the catalog, course pages (HTML and API) and the search page."""

import random
from urllib.parse import quote

from locust import task

from loadtests.scaling.users.common import LEVELS, QUERIES, SORTS, PortalUser, check, think


class BrowsingStudent(PortalUser):
    wait_time = think(2, 6)
    request_names = (
        "/",
        "/api/courses",
        "/api/courses/[slug]",
        "/courses/[slug]",
        "/search?q=[query]",
    )

    def on_start(self) -> None:
        self.slugs: list[str] = []
        self.catalog_page(page=1)

    def catalog_page(self, page: int) -> None:
        level = random.choice(LEVELS)
        url = f"/api/courses?page={page}&page_size=20&sort={random.choice(['popular', 'rating', 'newest'])}"
        if level:
            url += f"&level={level}"
        with self.client.get(url, name="/api/courses", catch_response=True) as response:
            body = check(response, 200, lambda body: "results" in body and "count" in body)
            if body:
                self.slugs = [course["slug"] for course in body["results"]] or self.slugs

    @task(4)
    def catalog(self) -> None:
        self.catalog_page(page=random.randint(1, 5))

    @task(3)
    def course_page(self) -> None:
        if self.slugs:
            slug = self.pick(self.slugs)
            with self.client.get(
                f"/courses/{slug}", name="/courses/[slug]", catch_response=True
            ) as response:
                check(response, 200)

    @task(3)
    def course_api(self) -> None:
        if self.slugs:
            slug = self.pick(self.slugs)
            with self.client.get(
                f"/api/courses/{slug}", name="/api/courses/[slug]", catch_response=True
            ) as response:
                check(response, 200, lambda body: body["slug"] == slug and "modules" in body)

    @task(2)
    def search_page(self) -> None:
        query = quote(self.pick(QUERIES))
        url = f"/search?q={query}&sort={random.choice(SORTS)}"
        with self.client.get(url, name="/search?q=[query]", catch_response=True) as response:
            check(response, 200)

    @task(1)
    def home(self) -> None:
        with self.client.get("/", name="/", catch_response=True) as response:
            check(response, 200)
