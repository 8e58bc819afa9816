"""The accounts API's answers about where an account is signed in, each defined once
(see portal.shapes)."""

from typing import Annotated, Literal, TypedDict

from portal.shapes import Field

SignInKind = Literal["token", "session"]


class SignIn(TypedDict):
    id: Annotated[str, Field(help_text='"s<n>" for a browser session, "t<n>" for a bearer token.')]
    kind: Annotated[str, Field(choices=["token", "session"])]
    created_at: Annotated[str, Field(format="date-time")]
    last_used_at: Annotated[
        str | None,
        Field(format="date-time", help_text="Noted at most once a minute; null: never used."),
    ]
    current: Annotated[bool, Field(help_text="The credentials of this very request.")]
    user_agent: Annotated[str, Field(help_text="The browser or client that signed in.")]


class SignInsEnded(TypedDict):
    ended: Annotated[int, Field(help_text="How many sessions and tokens were ended.")]
