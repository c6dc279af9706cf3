"""The console's HTML pages: queue, case, second review, appeals, audit log, users.

Server-rendered (Jinja2); `static/console.js` adds only keyboard shortcuts and the preloading
of the next case. Every form posts with the session's CSRF token and answers with a redirect,
so a reload never repeats a decision. `reviewing` holds the queue, the case and its decisions,
`supervision` second reviews, reopening, appeals and notices, `assigning` reviewers
to cameras, `admin` the audit log and users;
`common` what they share. `router` has every page.
"""

from fastapi import APIRouter

from review.pages import admin, assigning, reviewing, supervision

router = APIRouter(include_in_schema=False)
for pages in (reviewing, supervision, assigning, admin):
    router.include_router(pages.router)
