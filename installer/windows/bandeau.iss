; Bandeau for Windows: a per-user install, no administrator rights (Inno Setup 6).
;
; Build on Windows, after `.venv\Scripts\python installer\build.py` has written dist\bandeau\:
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" installer\windows\bandeau.iss
; It writes dist\bandeau-setup.exe. tests/test_bundle.py checks that every file named here
; is in the bundle's layout (installer/layout.py); it cannot be compiled on Linux.
;
; IT pre-sets the store's address either on the command line:
;   bandeau-setup.exe /SERVER=https://bandeau.example.fr [/STARTATLOGIN=1] [/VERYSILENT]
; or with a bandeau.toml next to bandeau-setup.exe (copied as the agent's settings when they
; have none yet).

#define AppName "Bandeau"
#define AppVersion "0.1.0"
#define AppId "app.bandeau.Bandeau"
#define Dist "..\..\dist\bandeau"

[Setup]
AppId={#AppId}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Bandeau
DefaultDirName={localappdata}\Programs\Bandeau
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
OutputDir=..\..\dist
OutputBaseFilename=bandeau-setup
SetupIconFile=bandeau.ico
UninstallDisplayIcon={app}\bandeau.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
CloseApplications=yes

[Languages]
Name: "fr"; MessagesFile: "compiler:Languages\French.isl"
Name: "en"; MessagesFile: "compiler:Default.isl"

[CustomMessages]
fr.StartAtLogin=Lancer Bandeau à l'ouverture de ma session
en.StartAtLogin=Start Bandeau when I log in
fr.RemoveData=Supprimer aussi votre journal et vos réglages ? Les événements pas encore envoyés au serveur seraient perdus.
en.RemoveData=Also remove your journal and settings? Events not yet sent to the server would be lost.

[Tasks]
Name: "startatlogin"; Description: "{cm:StartAtLogin}"; Flags: unchecked

[Files]
Source: "{#Dist}\bandeau.exe"; DestDir: "{app}"; Flags: ignoreversion
Source: "{#Dist}\_internal\*"; DestDir: "{app}\_internal"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "bandeau.ico"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{userprograms}\{#AppName}"; Filename: "{app}\bandeau.exe"; IconFilename: "{app}\bandeau.ico"; AppUserModelID: "{#AppId}"

[Run]
; Settings through the program itself (it checks them and writes bandeau.toml).
Filename: "{app}\bandeau.exe"; Parameters: "setting server.url ""{code:ServerUrl}"""; Flags: runhidden; Check: HasServerUrl
Filename: "{app}\bandeau.exe"; Parameters: "autostart on"; Flags: runhidden; Tasks: startatlogin
Filename: "{app}\bandeau.exe"; Parameters: "autostart on"; Flags: runhidden; Check: StartAtLoginAsked
Filename: "{app}\bandeau.exe"; Description: "{#AppName}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{app}\bandeau.exe"; Parameters: "autostart off"; Flags: runhidden; RunOnceId: "autostart"

[Registry]
; The Run value the bar writes goes with it (the bar keeps it in step otherwise).
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: none; ValueName: "Bandeau"; Flags: uninsdeletevalue dontcreatekey

[Code]
function ServerUrl(Param: String): String;
begin
  Result := ExpandConstant('{param:SERVER|}');
end;

function HasServerUrl(): Boolean;
begin
  Result := ServerUrl('') <> '';
end;

function StartAtLoginAsked(): Boolean;
begin
  Result := ExpandConstant('{param:STARTATLOGIN|0}') = '1';
end;

procedure CurStepChanged(CurStep: TSetupStep);
var
  Beside, Settings: String;
begin
  // IT's bandeau.toml next to the installer: the agent's settings if they have none yet.
  if CurStep = ssPostInstall then
  begin
    Beside := ExpandConstant('{src}\bandeau.toml');
    Settings := ExpandConstant('{localappdata}\bandeau\bandeau.toml');
    if FileExists(Beside) and not FileExists(Settings) then
    begin
      ForceDirectories(ExtractFileDir(Settings));
      FileCopy(Beside, Settings, True);
    end;
  end;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  // The journal is the agent's: kept unless they say otherwise (never asked when silent).
  if (CurUninstallStep = usPostUninstall) and not UninstallSilent() then
    if MsgBox(CustomMessage('RemoveData'), mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
      DelTree(ExpandConstant('{localappdata}\bandeau'), True, True, True);
end;
