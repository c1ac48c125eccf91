"""Files: upload (multipart, with and without a field), list, download, metadata, delete."""

from __future__ import annotations

import httpx
import pytest

RECORD = "/tables/Grants/records/1"


@pytest.fixture
def grant(api: httpx.Client) -> None:
    api.post("/tables/Lodges/records", json={"fields": {"Number": 1}})
    api.post("/tables/Grants/records", json={"fields": {"Lodge": 1, "Amount": 10}})


@pytest.mark.usefixtures("grant")
def test_an_attachment_round_trips(api: httpx.Client) -> None:
    data = bytes(range(256)) * 10
    response = api.post(RECORD + "/files", files={"file": ("letter.pdf", data, "application/pdf")})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "letter.pdf"
    assert response.json()["size"] == len(data)
    listed = api.get(RECORD + "/files").json()
    assert [f["name"] for f in listed] == ["letter.pdf"]
    download = api.get(RECORD + "/files/letter.pdf")
    assert download.content == data
    assert download.headers["content-type"] == "application/pdf"


@pytest.mark.usefixtures("grant")
def test_an_upload_with_field_name_sets_the_field(api: httpx.Client) -> None:
    response = api.post(
        RECORD + "/files",
        files={"file": ("scan.png", b"\x89PNG...", "image/png")},
        data={"fieldName": "Scan"},
    )
    assert response.json()["field"] == "Scan"
    assert api.get(RECORD).json()["fields"]["Scan"] == "scan.png"


@pytest.mark.usefixtures("grant")
def test_an_upload_to_an_unknown_field_is_400(api: httpx.Client) -> None:
    response = api.post(
        RECORD + "/files", files={"file": ("a.txt", b"a")}, data={"fieldName": "Nope"}
    )
    assert response.status_code == 400
    assert "Nope" in response.json()["message"]


@pytest.mark.usefixtures("grant")
def test_metadata_describes_the_file(api: httpx.Client) -> None:
    api.post(RECORD + "/files", files={"file": ("a.txt", b"hello", "text/plain")})
    meta = api.get(RECORD + "/files/a.txt/metadata").json()
    assert meta == {
        "name": "a.txt",
        "size": 5,
        "contentType": "text/plain",
        "createdAt": "2026-07-18T11:19:58",
        "field": None,
    }


@pytest.mark.usefixtures("grant")
def test_a_thumbnail_exists_only_for_images(api: httpx.Client) -> None:
    api.post(RECORD + "/files", files={"file": ("a.txt", b"hello", "text/plain")})
    api.post(RECORD + "/files", files={"file": ("b.jpg", b"jpeg", "image/jpeg")})
    assert api.get(RECORD + "/files/a.txt/thumb.jpg").status_code == 404
    assert api.get(RECORD + "/files/b.jpg/thumb.jpg").content == b"jpeg"


@pytest.mark.usefixtures("grant")
def test_deleting_a_file_removes_it_and_clears_its_field(api: httpx.Client) -> None:
    api.post(
        RECORD + "/files", files={"file": ("s.png", b"png", "image/png")}, data={"fieldName": "F"}
    )
    assert api.delete(RECORD + "/files/s.png").status_code == 200
    assert api.get(RECORD + "/files").json() == []
    assert api.get(RECORD + "/files/s.png").status_code == 404
    assert "Scan" not in api.get(RECORD).json()["fields"]


@pytest.mark.usefixtures("grant")
def test_an_upload_is_a_change_of_the_record(api: httpx.Client) -> None:
    before = api.get(RECORD).json()["sequence"]
    api.post(RECORD + "/files", files={"file": ("a.txt", b"a")})
    assert api.get("/tables/Grants/records", params={"sinceSq": before}).json()[0]["id"] == 1


@pytest.mark.usefixtures("grant")
def test_a_missing_file_is_404(api: httpx.Client) -> None:
    assert api.get(RECORD + "/files/none.txt").status_code == 404
    assert api.get("/tables/Grants/records/7/files").status_code == 404


@pytest.mark.usefixtures("grant")
def test_an_upload_that_is_not_multipart_is_400(api: httpx.Client) -> None:
    response = api.post(RECORD + "/files", json={"file": "x"})
    assert response.status_code == 400
