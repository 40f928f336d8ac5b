@echo off
rem PIN Station admin commands on Windows, as "npm run keys/audit/staff" in a source checkout:
rem   pin-station-admin.cmd keys status
rem   pin-station-admin.cmd help
rem PIN Station.exe is a GUI program: typed at the prompt, cmd.exe would not wait for it, so its
rem output would land after the next prompt and its exit code would be lost. A batch file waits
rem for it (start /wait is not needed), and it reads and writes this console window, which it
rem attaches to when started from one. Installed next to the exe by electron-builder (extraFiles).
setlocal
rem Electron attaches to the console unless this is set.
set "ELECTRON_NO_ATTACH_CONSOLE="
"%~dp0PIN Station.exe" --admin %*
exit /b %ERRORLEVEL%
