"""Hostile strings in the style of the OWASP XSS filter-evasion cheat sheet, written for samachar.

Each vector, if it ever ran, would open a dialog (``alert``/``confirm``/``prompt``)
or set ``window.samacharXss``; the browser tests listen for both. Every URL
in here points at 127.0.0.1 port 9 (discard), so even a vector that slipped
through would send nothing off the machine. Importable by any test:
``VECTORS`` (strings) and ``XSS_GLOBAL`` (the global a vector would set).
"""

from __future__ import annotations

XSS_GLOBAL = "samacharXss"

VECTORS: list[str] = [
    "<script>alert('XSS')</script>",
    "<SCRIPT SRC=http://127.0.0.1:9/xss.js></SCRIPT>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<a onmouseover=\"alert(document.cookie)\">xxs link</a>",
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    "<IMG SRC=/ onerror=\"window.samacharXss=1\"></img>",
    "<img src=x onerror=\"&#0000119&#0000105&#0000110&#0000100&#0000111&#0000119&#0000046&#0000115"
    "&#0000097&#0000109&#0000097&#0000099&#0000104&#0000097&#0000114&#0000088&#0000115&#0000115&#0000061&#0000049\">",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;"
    "&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28"
    "&#x27&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<SCRIPT/XSS SRC=\"http://127.0.0.1:9/xss.js\"></SCRIPT>",
    "<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert(\"XSS\")>",
    "<<SCRIPT>alert(\"XSS\");//\\<</SCRIPT>",
    "<SCRIPT SRC=//127.0.0.1:9/.j>",
    "</TITLE><SCRIPT>alert(\"XSS\");</SCRIPT>",
    "<INPUT TYPE=\"IMAGE\" SRC=\"javascript:alert('XSS');\">",
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<svg/onload=alert('XSS')>",
    "<svg><script>window.samacharXss=1</script></svg>",
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<a href=\"javascript&colon;alert(1)\">click</a>",
    "\"><script>alert(document.domain)</script>",
    "'><img src=x onerror=alert(1)>",
    "</script><script>window.samacharXss=1</script>",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    "<details open ontoggle=\"window.samacharXss=1\">",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<base href=\"javascript:alert(1)//\">",
    "<form><button formaction=\"javascript:alert(1)\">x</button></form>",
    "<style>@import 'http://127.0.0.1:9/xss.css';</style>",
    "<img src=\"x:x\" onerror=\"confirm(1)\">",
    "<video><source onerror=\"prompt(1)\"></video>",
]

# URL-shaped vectors for fields that hold a URL (original link, image src, source home page).
URL_VECTORS: list[str] = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "jav\tascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "vbscript:msgbox(1)",
    "http://127.0.0.1:9/\"><script>alert(1)</script>",
]
