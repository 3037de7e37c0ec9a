; Silent install for IT: IcarusNova-Setup.exe /S /SERVER=https://icarus.example.com /TOKEN=abc...
; Writes the values as machine policy (the same registry key the ADMX template manages), so
; the agent reads them with managed precedence. Values not given are left untouched.
!include "FileFunc.nsh"

!macro customInstall
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/SERVER=" $R1
  ${IfNot} ${Errors}
    WriteRegStr HKLM "SOFTWARE\Policies\IcarusNova\Agent" "ServerUrl" "$R1"
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/TOKEN=" $R2
  ${IfNot} ${Errors}
    WriteRegStr HKLM "SOFTWARE\Policies\IcarusNova\Agent" "EnrollmentToken" "$R2"
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/UPDATEFEED=" $R3
  ${IfNot} ${Errors}
    WriteRegStr HKLM "SOFTWARE\Policies\IcarusNova\Agent" "UpdateFeedUrl" "$R3"
  ${EndIf}
!macroend

!macro customUnInstall
  ; Policy set by the installer goes with it; policy pushed by GPO is GPO's to remove.
  DeleteRegValue HKLM "SOFTWARE\Policies\IcarusNova\Agent" "ServerUrl"
  DeleteRegValue HKLM "SOFTWARE\Policies\IcarusNova\Agent" "EnrollmentToken"
  DeleteRegValue HKLM "SOFTWARE\Policies\IcarusNova\Agent" "UpdateFeedUrl"
!macroend
