"""An aiohttp transport for python-telegram-bot's requests.

PTB's default HTTPXRequest tops out near 130 concurrent sends/s on this class of machine (httpx's
connection pool); aiohttp does over 1,000/s against the same server (docs/benchmarks.md). PTB supports
swapping the transport through `ApplicationBuilder.request()`; errors map to PTB's own exceptions exactly
as HTTPXRequest does (timeouts -> TimedOut, connection problems -> NetworkError), so everything above
(rate limiter, error handling) is unchanged.
"""

from __future__ import annotations

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.logs import redact


class AiohttpRequest(BaseRequest):
    def __init__(self, connection_pool_size: int = 64, read_timeout: float | None = 5.0,
                 connect_timeout: float | None = 5.0, write_timeout: float | None = 5.0,
                 media_write_timeout: float | None = 20.0) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._write_timeout = write_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=BaseRequest.DEFAULT_NONE, write_timeout=BaseRequest.DEFAULT_NONE,
                         connect_timeout=BaseRequest.DEFAULT_NONE,
                         pool_timeout=BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data and request_data.contains_files else None
        read = self._read_timeout if isinstance(read_timeout, type(BaseRequest.DEFAULT_NONE)) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, type(BaseRequest.DEFAULT_NONE)) \
            else connect_timeout
        write = self._media_write_timeout if files else self._write_timeout
        # aiohttp has no separate write timeout: bound the whole exchange by the sum.
        total = None if read is None else read + (write or 0) + (connect or 0)
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
        data: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            if files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mime) in files.items():
                    body = content if isinstance(content, bytes) else content.read()
                    form.add_field(name, body, filename=filename, content_type=mime)
                data = form
            else:
                data = request_data.json_parameters
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # aiohttp names the URL in some errors (InvalidUrlClientError, NonHttpUrlClientError): the URL
            # holds the token, so it never goes into our message (and the log formatter redacts the cause).
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {redact(str(err))}") from err
