import type { Profile, ProfileName } from '../types';
import { entraProfile } from './entra';
import { oktaProfile } from './okta';
import { rfcProfile } from './rfc';

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  rfc: rfcProfile,
  entra: entraProfile,
  okta: oktaProfile,
};
