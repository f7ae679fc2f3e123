; Inno Setup script for AI Cost Tracker (Windows). Per-user install, no admin rights needed.
; Build the bundle first (PyInstaller, see installer/README.md), then from the repo root:
;   iscc /DAppVersion=0.1.0 installer\windows\aicost.iss
; Output: dist\AI-Cost-Tracker-Setup-<version>.exe

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#define AppName "AI Cost Tracker"
#define AppExe "aicost-desktop.exe"
#define SourceDir "..\..\dist\aicost-desktop"
; Same value name as aicost_desktop/autostart.py, so the app's own "start at login" setting and
; this installer task switch the same thing.
#define RunValue "AI Cost Tracker"
; platformdirs.user_data_dir("aicost_desktop", appauthor=False) on Windows.
#define DataDir "{localappdata}\aicost_desktop"

[Setup]
AppId={{6E0E5F0B-3C1B-4C55-9B7A-A1C0C0571D3E}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=AI Cost Tracker developers
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=AI-Cost-Tracker-Setup-{#AppVersion}
SetupIconFile=..\..\resources\aicost-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "startatlogin"; Description: "Start {#AppName} when I sign in (in the notification area)"; GroupDescription: "Startup:"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "{#RunValue}"; ValueData: """{app}\{#AppExe}"""; Flags: uninsdeletevalue; Tasks: startatlogin

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Byte-code caches the app may write next to itself.
Type: filesandordirs; Name: "{app}\_internal\aicost_desktop\storage\migrations\__pycache__"
Type: filesandordirs; Name: "{app}\_internal\aicost_desktop\storage\migrations\versions\__pycache__"

[Code]
// The start-at-login value is removed on uninstall even when the app (not this installer) set it.
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  DataDir: String;
begin
  if CurUninstallStep = usUninstall then
    RegDeleteValue(HKCU, 'Software\Microsoft\Windows\CurrentVersion\Run', '{#RunValue}');
  if CurUninstallStep = usPostUninstall then
  begin
    DataDir := ExpandConstant('{#DataDir}');
    // User data (ledger, settings, logs, backups) is kept unless the user explicitly asks;
    // silent uninstalls always keep it.
    if DirExists(DataDir) and not UninstallSilent then
      if MsgBox('Also delete your AI Cost Tracker data (ledger, settings, logs and backups)?' + #13#10 + #13#10 +
                DataDir + #13#10 + #13#10 + 'Choose No to keep it for a later reinstall.',
                mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
        DelTree(DataDir, True, True, True);
  end;
end;
