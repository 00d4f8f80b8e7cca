; Inno Setup script of the Windows installer of Moodsic Desktop (Inno Setup 6).
;
;   iscc /DAppVersion=0.1.0 /DSourceDir=build\dist\Moodsic /DOutputDir=build\dist\packages build\moodsic.iss
;
; build/package.py runs it after build/build_app.py (the CI's Windows job). The installer copies the
; one-folder app into Program Files (or, for a user without administrator rights, into their own programs
; folder), adds a Start-menu entry and registers an uninstaller in "Apps & features". The owner's data
; (models, music library, settings) lives in %LOCALAPPDATA%\Moodsic, which the installer never writes and
; the uninstaller never removes: it removes only what it installed.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=...
#endif
#ifndef SourceDir
  #define SourceDir "dist\Moodsic"
#endif
#ifndef OutputDir
  #define OutputDir "dist\packages"
#endif

[Setup]
AppId={{6F0C7A4E-3B1D-4C55-9E3A-8D2B6C1F0A57}
AppName=Moodsic Desktop
AppVersion={#AppVersion}
AppVerName=Moodsic Desktop {#AppVersion}
AppPublisher=Moodsic
DefaultDirName={autopf}\Moodsic
DefaultGroupName=Moodsic
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=Moodsic-{#AppVersion}-windows-setup
SetupIconFile=..\resources\moodsic.ico
UninstallDisplayIcon={app}\Moodsic.exe
UninstallDisplayName=Moodsic Desktop
Uninstallable=yes
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Moodsic"; Filename: "{app}\Moodsic.exe"; Comment: "Music that follows the mood of the room"
Name: "{autoprograms}\Uninstall Moodsic"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Moodsic"; Filename: "{app}\Moodsic.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\Moodsic.exe"; Description: "{cm:LaunchProgram,Moodsic}"; Flags: nowait postinstall skipifsilent
